package io.tourniquet.testing;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;

/**
 * A TCP forwarder on an ephemeral loopback port, to make a real server unreachable and back.
 * While refusing, it accepts each connection and closes it at once (counting it), and it drops
 * the connections it was forwarding, so pooled keep-alive connections fail too.
 */
public final class SwitchableProxy implements Closeable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "proxy");
        t.setDaemon(true);
        return t;
    });
    private final Set<Socket> live = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();
    private boolean forwarding; // guarded by lock
    private int refused;        // guarded by lock

    public SwitchableProxy(String targetUrl, boolean forwarding) throws IOException {
        URI uri = URI.create(targetUrl);
        this.target = new InetSocketAddress(uri.getHost(), uri.getPort());
        this.forwarding = forwarding;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.submit(this::acceptLoop);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    public void forward() {
        synchronized (lock) {
            forwarding = true;
        }
    }

    public void refuse() {
        synchronized (lock) {
            forwarding = false;
        }
        live.forEach(SwitchableProxy::closeQuietly);
    }

    public int refused() {
        synchronized (lock) {
            return refused;
        }
    }

    /** Waits until at least {@code count} connections have been refused in total. */
    public void awaitRefused(int count, Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (refused < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new TimeoutException("only " + refused + " of " + count + " refusals");
                lock.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                boolean pass;
                synchronized (lock) {
                    pass = forwarding;
                    if (!pass) {
                        refused++;
                        lock.notifyAll();
                    }
                }
                if (!pass) {
                    closeQuietly(client);
                    continue;
                }
                Socket upstream;
                try {
                    upstream = new Socket(target.getAddress(), target.getPort());
                } catch (IOException e) {
                    closeQuietly(client);
                    continue;
                }
                live.add(client);
                live.add(upstream);
                threads.submit(() -> pump(client, upstream));
                threads.submit(() -> pump(upstream, client));
            } catch (IOException e) {
                // the server socket was closed
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // either side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            live.remove(from);
            live.remove(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        live.forEach(SwitchableProxy::closeQuietly);
        threads.shutdownNow();
    }
}

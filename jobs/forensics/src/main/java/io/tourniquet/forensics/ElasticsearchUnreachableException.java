package io.tourniquet.forensics;

/**
 * Elasticsearch cannot be used: it did not answer (connection refused, timeout, not Elasticsearch at
 * that URL), the TLS handshake failed, or it refused the credentials.
 */
public final class ElasticsearchUnreachableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ElasticsearchUnreachableException(String url, Throwable cause) {
        super("cannot reach Elasticsearch at " + url + ": " + rootMessage(cause), cause);
    }

    private ElasticsearchUnreachableException(Throwable cause, String message) {
        super(message, cause);
    }

    /** With a message that already names the service and says what is wrong ({@code EsClients.explain}). */
    public static ElasticsearchUnreachableException explained(String message, Throwable cause) {
        return new ElasticsearchUnreachableException(cause, message);
    }

    private static String rootMessage(Throwable t) {
        String msg = t.toString();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getMessage() != null) msg = c.getMessage();
        }
        return msg;
    }
}

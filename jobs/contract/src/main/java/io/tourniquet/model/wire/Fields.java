package io.tourniquet.model.wire;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/** The nullable field encodings the model's serializers share. */
final class Fields {
    private Fields() {}

    // Strings: their UTF-8 bytes in one piece, after their length (-1 for null). The JDK encodes and
    // decodes ASCII strings (nearly every string here) with a bulk copy; Flink's StringValue writes
    // and reads them a character at a time, and was the top frame of the per-user task in a profile.

    static void writeString(String s, DataOutputView out) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    static String readString(DataInputView in) throws IOException {
        int length = in.readInt();
        if (length == -1) return null;
        if (length < -1) throw new IOException("corrupt record: string length " + length);
        byte[] utf8 = new byte[length];
        in.readFully(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    private static final byte NULL = 0;
    private static final byte FALSE = 1;
    private static final byte TRUE = 2;
    private static final byte PRESENT = 1;

    static void writeBoolean(Boolean b, DataOutputView out) throws IOException {
        out.writeByte(b == null ? NULL : b ? TRUE : FALSE);
    }

    static Boolean readBoolean(DataInputView in) throws IOException {
        byte b = in.readByte();
        return switch (b) {
            case NULL -> null;
            case FALSE -> Boolean.FALSE;
            case TRUE -> Boolean.TRUE;
            default -> throw new IOException("corrupt record: Boolean marker " + b);
        };
    }

    static void writeDouble(Double d, DataOutputView out) throws IOException {
        if (d == null) {
            out.writeByte(NULL);
        } else {
            out.writeByte(PRESENT);
            out.writeDouble(d);
        }
    }

    static Double readDouble(DataInputView in) throws IOException {
        return in.readByte() == NULL ? null : in.readDouble();
    }

    /** A count, or -1 for null (lists and maps). */
    static int readCount(DataInputView in, String what) throws IOException {
        int n = in.readInt();
        if (n < -1) throw new IOException("corrupt record: " + what + " count " + n);
        return n;
    }

    /** How one element of a list is written. */
    interface ElementWriter<T> {
        void write(T element, DataOutputView out) throws IOException;
    }

    /** How one element of a list is read. */
    interface ElementReader<T> {
        T read(DataInputView in) throws IOException;
    }

    /** A nullable list: its count (-1 for null), then each element. */
    static <T> void writeList(List<T> list, DataOutputView out, ElementWriter<T> each) throws IOException {
        if (list == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(list.size());
        for (T element : list) each.write(element, out);
    }

    /** What {@link #writeList} wrote: null, or a new {@link ArrayList}. */
    static <T> List<T> readList(DataInputView in, String what, ElementReader<T> each) throws IOException {
        int n = readCount(in, what);
        if (n == -1) return null;
        List<T> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) list.add(each.read(in));
        return list;
    }
}

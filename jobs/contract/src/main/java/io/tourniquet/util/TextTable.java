package io.tourniquet.util;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A plain-text table: columns padded to their widest cell, two spaces apart, numbers right-aligned. */
public final class TextTable {
    private final List<String> headers;
    private final boolean[] right;
    private final List<List<String>> rows = new ArrayList<>();

    /** A header ending in {@code >} is a right-aligned column (the marker is not printed). */
    public TextTable(String... headers) {
        this.right = new boolean[headers.length];
        List<String> h = new ArrayList<>();
        for (int i = 0; i < headers.length; i++) {
            right[i] = headers[i].endsWith(">");
            h.add(right[i] ? headers[i].substring(0, headers[i].length() - 1) : headers[i]);
        }
        this.headers = h;
    }

    public TextTable row(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("expected " + headers.size() + " cells, got " + Arrays.toString(cells));
        }
        List<String> r = new ArrayList<>();
        for (Object c : cells) r.add(c == null ? "-" : c.toString());
        rows.add(r);
        return this;
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    public void print(PrintWriter out) {
        int[] width = new int[headers.size()];
        for (int i = 0; i < width.length; i++) width[i] = headers.get(i).length();
        for (List<String> r : rows) {
            for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], r.get(i).length());
        }
        line(out, headers, width);
        for (List<String> r : rows) line(out, r, width);
    }

    private void line(PrintWriter out, List<String> cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) sb.append("  ");
            String c = cells.get(i);
            String pad = " ".repeat(width[i] - c.length());
            sb.append(right[i] ? pad + c : (i == cells.size() - 1 ? c : c + pad));
        }
        out.println(sb);
    }
}

package io.tourniquet.forensics;

/** Elasticsearch did not answer (connection refused, timeout, not Elasticsearch at that URL). */
public final class ElasticsearchUnreachableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ElasticsearchUnreachableException(String url, Throwable cause) {
        super("cannot reach Elasticsearch at " + url + ": " + rootMessage(cause), cause);
    }

    private static String rootMessage(Throwable t) {
        String msg = t.toString();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getMessage() != null) msg = c.getMessage();
        }
        return msg;
    }
}

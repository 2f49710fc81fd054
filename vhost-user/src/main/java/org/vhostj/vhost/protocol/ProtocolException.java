package org.vhostj.vhost.protocol;

/**
 * A front-end request that is malformed or refused. Carries the request and the offending values; the
 * connection NACKs it if a reply was requested, logs one line and closes that connection only.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Request request;

    public ProtocolException(Request request, String message) {
        super((request == null ? "request" : request.name()) + ": " + message);
        this.request = request;
    }

    public Request request() { return request; }
}

package org.vhostj.vhost.protocol;

/** Back-end initiated requests sent on the backend channel (SET_BACKEND_REQ_FD), vhost-user.rst numbering. */
public enum BackendRequest {
    IOTLB_MSG(1), CONFIG_CHANGE_MSG(2), VRING_HOST_NOTIFIER_MSG(3), VRING_CALL(4), VRING_ERR(5),
    SHARED_OBJECT_ADD(6), SHARED_OBJECT_REMOVE(7), SHARED_OBJECT_LOOKUP(8);

    public final int code;

    BackendRequest(int code) { this.code = code; }

    public static BackendRequest of(int code) {
        for (BackendRequest r : values()) if (r.code == code) return r;
        return null;
    }
}

package org.vhostj.sys;

/** Linux errno values (asm-generic/errno-base.h and errno.h, identical on x86_64 and aarch64). */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7,
            EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18,
            ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25,
            EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, EMLINK = 31, EPIPE = 32, ERANGE = 34,
            EDEADLK = 35, ENAMETOOLONG = 36, ENOLCK = 37, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40,
            ENODATA = 61, EPROTO = 71, EOVERFLOW = 75, EBADFD = 77, ENOTSOCK = 88, EMSGSIZE = 90,
            EOPNOTSUPP = 95, EADDRINUSE = 98, ECONNABORTED = 103, ENETDOWN = 100, ECONNRESET = 104, ENOBUFS = 105,
            ENOTCONN = 107, ETIMEDOUT = 110, ECONNREFUSED = 111, ESTALE = 116, EDQUOT = 122,
            ECANCELED = 125;

    private Errno() {}

    /** {@code "ENOENT (No such file or directory)"}; unknown values as {@code "errno 4095"}. */
    public static String describe(int errno) {
        String name = name(errno);
        String text = LibC.strerror(errno);
        return name == null ? "errno " + errno + " (" + text + ")" : name + " (" + text + ")";
    }

    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM"; case ENOENT -> "ENOENT"; case ESRCH -> "ESRCH"; case EINTR -> "EINTR";
            case EIO -> "EIO"; case ENXIO -> "ENXIO"; case E2BIG -> "E2BIG"; case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN"; case ENOMEM -> "ENOMEM"; case EACCES -> "EACCES"; case EFAULT -> "EFAULT";
            case EBUSY -> "EBUSY"; case EEXIST -> "EEXIST"; case EXDEV -> "EXDEV"; case ENODEV -> "ENODEV";
            case ENOTDIR -> "ENOTDIR"; case EISDIR -> "EISDIR"; case EINVAL -> "EINVAL"; case ENFILE -> "ENFILE";
            case EMFILE -> "EMFILE"; case ENOTTY -> "ENOTTY"; case EFBIG -> "EFBIG"; case ENOSPC -> "ENOSPC";
            case ESPIPE -> "ESPIPE"; case EROFS -> "EROFS"; case EMLINK -> "EMLINK"; case EPIPE -> "EPIPE";
            case ERANGE -> "ERANGE"; case EDEADLK -> "EDEADLK"; case ENAMETOOLONG -> "ENAMETOOLONG";
            case ENOLCK -> "ENOLCK"; case ENOSYS -> "ENOSYS"; case ENOTEMPTY -> "ENOTEMPTY"; case ELOOP -> "ELOOP";
            case ENODATA -> "ENODATA"; case EPROTO -> "EPROTO"; case EOVERFLOW -> "EOVERFLOW";
            case EBADFD -> "EBADFD"; case ENOTSOCK -> "ENOTSOCK"; case EMSGSIZE -> "EMSGSIZE";
            case EOPNOTSUPP -> "EOPNOTSUPP"; case ECONNABORTED -> "ECONNABORTED"; case EADDRINUSE -> "EADDRINUSE"; case ENETDOWN -> "ENETDOWN";
            case ECONNRESET -> "ECONNRESET"; case ENOBUFS -> "ENOBUFS"; case ENOTCONN -> "ENOTCONN";
            case ETIMEDOUT -> "ETIMEDOUT"; case ECONNREFUSED -> "ECONNREFUSED"; case ESTALE -> "ESTALE";
            case EDQUOT -> "EDQUOT"; case ECANCELED -> "ECANCELED";
            default -> null;
        };
    }
}

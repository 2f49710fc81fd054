package org.vhostj.harness.fuse;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;
import org.vhostj.fs.fuse.Fuse;

/** Names of FUSE opcodes for messages, taken from the constants in {@link Fuse}. */
public final class FuseOpcodes {
    private FuseOpcodes() {}

    private static final Map<Integer, String> NAMES = new HashMap<>();
    static {
        String[] opcodes = {"LOOKUP", "FORGET", "GETATTR", "SETATTR", "READLINK", "SYMLINK", "MKNOD", "MKDIR", "UNLINK", "RMDIR",
            "RENAME", "LINK", "OPEN", "READ", "WRITE", "STATFS", "RELEASE", "FSYNC", "SETXATTR", "GETXATTR", "LISTXATTR",
            "REMOVEXATTR", "FLUSH", "INIT", "OPENDIR", "READDIR", "RELEASEDIR", "FSYNCDIR", "GETLK", "SETLK", "SETLKW", "ACCESS",
            "CREATE", "INTERRUPT", "BMAP", "DESTROY", "IOCTL", "POLL", "NOTIFY_REPLY", "BATCH_FORGET", "FALLOCATE", "READDIRPLUS",
            "RENAME2", "LSEEK", "COPY_FILE_RANGE", "SETUPMAPPING", "REMOVEMAPPING", "SYNCFS", "TMPFILE", "STATX"};
        for (String n : opcodes) {
            try {
                Field f = Fuse.class.getField(n);
                if (Modifier.isStatic(f.getModifiers())) NAMES.put(f.getInt(null), "FUSE_" + n);
            } catch (ReflectiveOperationException ignored) {
                // a constant this Fuse version lacks
            }
        }
    }

    public static String name(int opcode) { return NAMES.getOrDefault(opcode, "FUSE opcode " + opcode); }
}

package org.vhostj.fs.passthrough;

/**
 * How the passthrough filesystem serves the share.
 *
 * @param cache    entry/attribute timeouts and open flags (virtiofsd's --cache)
 * @param readonly refuse every change with EROFS (--readonly)
 * @param xattr    serve extended attributes (--xattr); without it the xattr opcodes answer ENOSYS, so the
 *                 guest stops asking
 */
public record FsConfig(CacheMode cache, boolean readonly, boolean xattr) {
    public FsConfig {
        if (cache == null) throw new IllegalArgumentException("cache mode required");
    }

    public static FsConfig defaults() { return new FsConfig(CacheMode.AUTO, false, false); }
}

package org.vhostj.harness.load;

/**
 * One blk workload as the command line gave it.
 *
 * @param rw              access pattern
 * @param blockBytes      request size (a multiple of 512)
 * @param iodepth         requests in flight per queue
 * @param readPercent     share of reads for RANDRW
 * @param verify          write patterns and check them on read-back
 * @param workingSetBytes the part of the disk used (from sector 0)
 * @param runtimeMillis   length of the timed phase
 * @param seed            random seed (each queue derives its own)
 */
public record BlkJob(Mode rw, int blockBytes, int iodepth, int readPercent, boolean verify, long workingSetBytes,
                     long runtimeMillis, long seed) {
    public enum Mode {
        READ, WRITE, RANDREAD, RANDWRITE, RANDRW;

        boolean random() { return this == RANDREAD || this == RANDWRITE || this == RANDRW; }

        boolean reads() { return this == READ || this == RANDREAD || this == RANDRW; }

        boolean writes() { return this == WRITE || this == RANDWRITE || this == RANDRW; }
    }

    public BlkJob {
        if (blockBytes <= 0 || blockBytes % 512 != 0) throw new IllegalArgumentException("block size must be a positive multiple of 512: " + blockBytes);
        if (iodepth <= 0) throw new IllegalArgumentException("iodepth must be positive: " + iodepth);
        if (readPercent < 0 || readPercent > 100) throw new IllegalArgumentException("read percentage must be 0..100: " + readPercent);
        if (workingSetBytes < blockBytes) throw new IllegalArgumentException("working set of " + workingSetBytes + " bytes is smaller than one block");
    }
}

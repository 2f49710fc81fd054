package org.vhostj.harness.load;

/**
 * One fs workload as the command line gave it.
 *
 * @param workload      what to do in the work directory
 * @param blockBytes    READ/WRITE size for the data workloads
 * @param iodepth       READ/WRITE requests in flight
 * @param fileBytes     size of the data file
 * @param runtimeMillis length of the timed phase
 * @param verify        check read data against the pattern written
 * @param seed          random seed (randread)
 */
public record FsJob(Workload workload, int blockBytes, int iodepth, long fileBytes, long runtimeMillis, boolean verify, long seed) {
    public enum Workload { METADATA, SEQREAD, SEQWRITE, RANDREAD }

    public FsJob {
        if (blockBytes <= 0 || blockBytes % 8 != 0) throw new IllegalArgumentException("block size must be a positive multiple of 8: " + blockBytes);
        if (iodepth <= 0) throw new IllegalArgumentException("iodepth must be positive: " + iodepth);
        if (fileBytes < blockBytes) throw new IllegalArgumentException("file size " + fileBytes + " is smaller than one block");
    }
}

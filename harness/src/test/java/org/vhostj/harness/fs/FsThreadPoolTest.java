package org.vhostj.harness.fs;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vhostj.fs.fuse.Fuse;
import org.vhostj.harness.fs.FsBackend.Kind;
import org.vhostj.harness.fuse.FuseClient;
import org.vhostj.harness.fuse.FuseException;
import org.vhostj.harness.fuse.FuseTypes;
import org.vhostj.sys.Fcntl;
import org.vhostj.sys.LibC;
import org.vhostj.vhost.testing.HostPackages;

/**
 * Our daemon's {@code --thread-pool-size}: a request that blocks holds up the requests behind it on its queue
 * without a pool, and does not with one. The blocking request: opening for writing a file on which this test
 * holds a read lease (the kernel makes the opener wait until the lease is given up).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FsThreadPoolTest {
    private static final int F_SETSIG = 10, F_SETLEASE = 1024, F_RDLCK = 0, F_UNLCK = 2, SIGWINCH = 28, AT_FDCWD = -100;

    @ParameterizedTest(name = "thread pool {0}")
    @ValueSource(ints = {0, 4})
    void aBlockedRequestHoldsUpTheQueueOnlyWithoutAPool(int threads) throws Exception {
        HostPackages.assumeSlowTestsEnabled();
        try (Share s = Share.start(Kind.OURS, (run, shared) -> Files.writeString(shared.resolve("leased"), "x"), "threads=" + threads);
             Arena arena = Arena.ofConfined()) {
            FuseTypes.Entry leased = s.fc.lookup(Fuse.ROOT_ID, "leased");
            int fd = LibC.openat(AT_FDCWD, arena.allocateFrom(s.shared.resolve("leased").toString()), Fcntl.O_RDONLY, 0);
            assertTrue(fd >= 0, "open: " + fd);
            // the lease break is signalled with SIGWINCH (ignored by default) instead of SIGIO (which would end this JVM)
            assertEquals(0, LibC.fcntl(fd, F_SETSIG, SIGWINCH));
            assertEquals(0, LibC.fcntl(fd, F_SETLEASE, F_RDLCK), "read lease");
            // a second client on the same queue that gives up after 2.5 s (its request stays in flight)
            FuseClient quick = new FuseClient(s.session.ram(), s.fc.hiprioQueue(), s.fc.requestQueue(), 4096, 2500);
            try {
                assertThrows(FuseException.class, () -> quick.open(leased.nodeid(), Fcntl.O_WRONLY), "an open for writing waits for the lease");
                if (threads > 0) {
                    assertEquals(Fcntl.S_IFDIR, quick.getattr(Fuse.ROOT_ID).mode() & Fcntl.S_IFMT, "the pool serves the next request meanwhile");
                } else {
                    assertThrows(FuseException.class, () -> quick.getattr(Fuse.ROOT_ID), "without a pool the queue waits behind the open");
                }
            } finally {
                LibC.fcntl(fd, F_SETLEASE, F_UNLCK);   // the open goes on
                LibC.close(fd);
            }
            // the late OPEN reply is skipped by the client; the queue serves again
            assertEquals(Fcntl.S_IFDIR, s.fc.getattr(Fuse.ROOT_ID).mode() & Fcntl.S_IFMT);
            s.canary.assertUntouched();
        }
    }
}

package org.vhostj.vhost.daemon;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vhostj.vhost.protocol.Request;
import org.vhostj.vhost.protocol.VirtioFeature;
import org.vhostj.vhost.testing.RawFrontendClient;

/**
 * {@link Daemon#listen()} makes the socket without serving it (what a device's sandbox needs in between): a
 * front-end that connects then waits and is served once {@link Daemon#start()} runs.
 */
@Timeout(30)
class DaemonListenTest {
    @TempDir Path dir;

    private Daemon daemon(Path sock) {
        return new Daemon(new EchoDevice(2), new DaemonOptions(sock, -1, 0, Duration.ofSeconds(5), Duration.ofMillis(300), true));
    }

    @Test
    void aFrontEndThatConnectsBeforeStartIsServedOnlyAfterIt() throws Exception {
        Path sock = dir.resolve("echo.sock");
        try (Daemon d = daemon(sock)) {
            d.listen();
            assertTrue(Files.exists(sock), "the socket exists after listen()");
            assertFalse(d.listening(), "not serving yet");
            try (RawFrontendClient fe = new RawFrontendClient(sock)) {   // connects: the backlog holds it
                CompletableFuture<Long> features = CompletableFuture.supplyAsync(() -> fe.call(Request.GET_FEATURES, null).u64());
                assertThrows(TimeoutException.class, () -> features.get(300, TimeUnit.MILLISECONDS), "served before start()");
                d.start();
                assertTrue(VirtioFeature.has(features.get(5, TimeUnit.SECONDS), VirtioFeature.VERSION_1));
                assertTrue(d.listening());
            }
        }
        assertFalse(Files.exists(sock), "close() removes the socket");
    }

    @Test
    void closingADaemonThatOnlyListenedRemovesItsSocket() {
        Path sock = dir.resolve("echo.sock");
        Daemon d = daemon(sock);
        d.listen();
        d.listen();   // a second call changes nothing
        d.close();
        assertFalse(Files.exists(sock));
        assertThrows(IllegalStateException.class, d::listen, "a closed daemon does not listen again");
    }
}

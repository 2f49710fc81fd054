package org.vhostj.sys;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class EventFdEpollTest {
    @Test
    void writesAccumulateAndAReadClearsTheCounter() {
        try (EventFd e = EventFd.create()) {
            assertEquals(-Errno.EAGAIN, e.read());
            assertEquals(0, e.write(3));
            assertEquals(0, e.write(4));
            assertEquals(7, e.read());
            assertEquals(-Errno.EAGAIN, e.read());
        }
    }

    @Test
    void epollReportsTheTokenOfTheEventfdThatWasSignalled() {
        try (Epoll ep = new Epoll(8); EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            ep.add(a.fd(), Epoll.EPOLLIN, 100);
            ep.add(b.fd(), Epoll.EPOLLIN, 0x1_0000_0002L);
            assertEquals(0, ep.await(0));
            b.signal();
            assertEquals(1, ep.await(1000));
            assertEquals(0x1_0000_0002L, ep.token(0));
            assertTrue((ep.events(0) & Epoll.EPOLLIN) != 0);
            b.drain();
            ep.remove(b.fd());
            b.signal();
            a.signal();
            assertEquals(1, ep.await(1000));
            assertEquals(100, ep.token(0));
            ep.remove(12345); // not watched: ignored
        }
    }

    @Test
    void closedFdOwnerRefusesUseAndTakeHandsOwnershipOn() {
        EventFd e = EventFd.create();
        int raw = e.owner().take();
        assertThrows(IllegalStateException.class, e::fd);
        e.close(); // nothing to close any more
        try (Fd again = Fd.adopt(raw)) {
            assertTrue(again.isOpen());
        }
    }
}

package org.vhostj.harness.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.vhostj.harness.guest.QemuGuest.Accel;
import org.vhostj.harness.guest.QemuGuest.Net;
import org.vhostj.harness.guest.QemuGuest.NetInterrupts;

/** The QEMU command line and the per-run archive, without starting QEMU. */
class QemuGuestCommandLineTest {
    private static final Path SOCK = Path.of("/tmp/x.sock");

    private static GuestImage fakeImage() throws ReflectiveOperationException {
        Constructor<GuestImage> c = GuestImage.class.getDeclaredConstructor(Path.class, Path.class, String.class, boolean.class);
        c.setAccessible(true);
        return c.newInstance(Path.of("/img/vmlinux"), Path.of("/img/initramfs.cpio.gz"), "6.1.0-test", false);
    }

    private static String arg(List<String> cmd, String option, String prefix) {
        for (int i = 0; i + 1 < cmd.size(); i++) {
            if (cmd.get(i).equals(option) && cmd.get(i + 1).startsWith(prefix)) return cmd.get(i + 1);
        }
        throw new AssertionError("no " + option + " " + prefix + "... in " + cmd);
    }

    @Test
    void netUnderTcgUsesIntxBecauseQemu72CrashesWithMsix() throws Exception {
        List<String> cmd = QemuGuest.of(fakeImage()).accel(Accel.TCG).net(SOCK).commandLine("qemu", Path.of("/r/initrd"));
        String dev = arg(cmd, "-device", "virtio-net-pci");
        assertTrue(dev.endsWith(",vectors=0"), dev);
        assertEquals("vhost-user,id=hn0,chardev=net0,queues=1", arg(cmd, "-netdev", "vhost-user"));
        assertEquals("socket,id=net0,path=/tmp/x.sock", arg(cmd, "-chardev", "socket,id=net0"));
    }

    @Test
    void multiQueueNetUnderTcgKeepsMqAndIntx() throws Exception {
        String dev = arg(QemuGuest.of(fakeImage()).accel(Accel.TCG).net(SOCK, 2).commandLine("qemu", Path.of("/r")),
                "-device", "virtio-net-pci");
        assertTrue(dev.endsWith(",mq=on,vectors=0"), dev);
    }

    @Test
    void netUnderKvmKeepsMsixWithAVectorPerQueue() throws Exception {
        String one = arg(QemuGuest.of(fakeImage()).accel(Accel.KVM).net(SOCK).commandLine("qemu", Path.of("/r")),
                "-device", "virtio-net-pci");
        assertFalse(one.contains("vectors="), one);
        String two = arg(QemuGuest.of(fakeImage()).accel(Accel.KVM).net(SOCK, 2).commandLine("qemu", Path.of("/r")),
                "-device", "virtio-net-pci");
        assertTrue(two.endsWith(",mq=on,vectors=6"), two);
    }

    @Test
    void explicitMsixUnderTcgIsHonoured() {
        Net n = new Net(SOCK, 1, "52:54:00:12:34:50", NetInterrupts.MSIX);
        assertEquals("", QemuGuest.netInterruptOptions(n, Accel.TCG));
    }

    @Test
    void machineHasSharedMemfdRamAndPvhKernel() throws Exception {
        List<String> cmd = QemuGuest.of(fakeImage()).memoryMib(512).cpus(2).commandLine("qemu", Path.of("/r/initrd"));
        assertEquals("memory-backend-memfd,id=mem,size=512M,share=on", arg(cmd, "-object", "memory-backend-memfd"));
        assertEquals("node,memdev=mem", arg(cmd, "-numa", "node"));
        assertEquals("/img/vmlinux", arg(cmd, "-kernel", "/"));
        assertEquals("tcg,thread=multi,tb-size=256", arg(cmd, "-accel", "tcg"));
    }

    @Test
    void blkAndFsDevicesCarryTheirOptions() throws Exception {
        List<String> cmd = QemuGuest.of(fakeImage())
                .device(new QemuGuest.Blk(SOCK, 2, true, true))
                .fs(Path.of("/tmp/fs.sock"), "share")
                .commandLine("qemu", Path.of("/r"));
        assertEquals("socket,id=blk0,path=/tmp/x.sock,reconnect=1", arg(cmd, "-chardev", "socket,id=blk0"));
        assertEquals("vhost-user-blk-pci,id=vblk0,chardev=blk0,num-queues=2,packed=on", arg(cmd, "-device", "vhost-user-blk"));
        assertEquals("vhost-user-fs-pci,id=vfs0,chardev=fs0,tag=share,queue-size=1024", arg(cmd, "-device", "vhost-user-fs"));
    }

    @Test
    void customVhostUserDeviceGetsItsOwnChardev() throws Exception {
        List<String> cmd = QemuGuest.of(fakeImage())
                .device(new QemuGuest.Custom(SOCK, "vhost-user-rng-pci", "max-bytes=1024"))
                .commandLine("qemu", Path.of("/r"));
        assertEquals("socket,id=vu0,path=/tmp/x.sock", arg(cmd, "-chardev", "socket,id=vu0"));
        assertEquals("vhost-user-rng-pci,id=vdev0,chardev=vu0,max-bytes=1024", arg(cmd, "-device", "vhost-user-rng"));
        assertThrows(IllegalArgumentException.class, () -> new QemuGuest.Custom(SOCK, "e1000", ""));
    }

    @Test
    void badDeviceParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new QemuGuest.Blk(SOCK, 0, false, false));
        assertThrows(IllegalArgumentException.class, () -> new QemuGuest.Fs(SOCK, "a,b", 1024));
        assertThrows(IllegalArgumentException.class, () -> new QemuGuest.Fs(SOCK, "t", 1000));
        assertThrows(IllegalArgumentException.class, () -> new Net(SOCK, 1, "52:54:00:12:34", NetInterrupts.AUTO));
    }

    @Test
    void environmentValuesAreQuotedAndNamesChecked() throws Exception {
        QemuGuest g = QemuGuest.of(fakeImage()).env("A", "it's $HOME; rm -rf /").run(GuestCase.BLK_VERIFY);
        byte[] archive;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(g.runArchive()))) {
            archive = in.readAllBytes();
        }
        List<CpioNewcWriterTest.Entry> e = CpioNewcWriterTest.parse(archive);
        assertEquals("run/vhostj/test.sh", e.getLast().name());
        assertEquals("export A='it'\\''s $HOME; rm -rf /'\n. /cases/blk-verify.sh\n",
                new String(e.getLast().data(), StandardCharsets.UTF_8));
        assertThrows(IllegalArgumentException.class, () -> g.env("A B", "x"));
        assertThrows(IllegalArgumentException.class, () -> g.env("1A", "x"));
    }

    @Test
    void everyCaseIsShippedAsAResource() throws IOException {
        for (GuestCase c : GuestCase.values()) assertTrue(GuestImage.resource("cases/" + c.fileName()).length > 0, c.name());
        assertTrue(new String(GuestImage.resource("init.sh"), StandardCharsets.UTF_8).contains("VHOSTJ-RESULT rc="));
    }
}

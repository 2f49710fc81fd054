package org.vhostj.harness.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one guest run produced. Immutable.
 *
 * @param exitCode          the guest script's exit status (from "VHOSTJ-RESULT rc=N"), -1 if it never finished
 * @param timedOut          the run hit its timeout and QEMU was killed
 * @param qemuExitCode      QEMU's exit status (128+signal when a signal ended it, e.g. 139 for SIGSEGV), -1 if unknown
 * @param resultLines       the "RESULT name key=value ..." console lines, in order
 * @param consoleLog        the serial console, first line the QEMU command
 * @param bootMillis        wall time from starting QEMU to "VHOSTJ-BOOTED" (modules loaded, devices bound), -1 if never
 * @param bootUptimeSeconds the guest kernel's uptime at that moment, -1 if never
 * @param totalMillis       wall time from starting QEMU until its console closed
 * @param commandLine       QEMU's argv
 * @param listenerFailure   the first exception the console listener threw, or null
 */
public record GuestResult(int exitCode, boolean timedOut, int qemuExitCode, List<String> resultLines, Path consoleLog,
                          long bootMillis, double bootUptimeSeconds, long totalMillis, List<String> commandLine,
                          RuntimeException listenerFailure) {
    /** The script exited 0, within the timeout, and the console listener did not throw. */
    public boolean passed() {
        return exitCode == 0 && !timedOut && listenerFailure == null;
    }

    /** key=value pairs of the first "RESULT {@code name} ..." line; empty if there is none. */
    public Map<String, String> result(String name) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : resultLines) {
            String[] words = line.trim().split("\\s+");
            if (words.length < 2 || !words[1].equals(name)) continue;
            for (int i = 2; i < words.length; i++) {
                int eq = words[i].indexOf('=');
                if (eq > 0) values.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
            return values;
        }
        return values;
    }

    /** One value of {@link #result(String)}; throws naming the console log if it is missing. */
    public String value(String name, String key) {
        String v = result(name).get(key);
        if (v == null) throw new IllegalStateException("no RESULT " + name + " " + key + "=...; " + summary());
        return v;
    }

    /** For assertion messages: the outcome and the last console lines. */
    public String summary() {
        StringBuilder s = new StringBuilder("guest rc=").append(exitCode).append(" timedOut=").append(timedOut)
                .append(" qemu exit=").append(qemuExitCode).append(" boot=").append(bootMillis).append(" ms total=")
                .append(totalMillis).append(" ms log=").append(consoleLog);
        if (listenerFailure != null) s.append(" listener failed: ").append(listenerFailure);
        try {
            List<String> all = Files.readAllLines(consoleLog, StandardCharsets.UTF_8);
            s.append("\n  last console lines:");
            for (String line : all.subList(Math.min(all.size(), Math.max(1, all.size() - 25)), all.size())) s.append("\n  | ").append(line);
        } catch (IOException e) {
            s.append(" (log unreadable: ").append(e.getMessage()).append(')');
        }
        return s.toString();
    }
}

package org.vhostj.perf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class NetBenchTest {
    @Test
    void pairsAreDividedRunByRun() {
        assertEquals(List.of(2.0, 0.5), NetBench.pairedRatios(List.of(4.0, 1.0, 9.0), List.of(2.0, 2.0)));
        assertEquals(1.25, NetBench.median(List.of(0.5, 2.0, 1.0, 1.5)));
    }

    @Test
    void theMedianIntervalUsesBinomialOrderStatistics() {
        assertNull(NetBench.medianInterval(List.of(1.0, 2.0, 3.0, 4.0, 5.0)), "5 values cannot give 95%");
        // 6 values: P(X = 0) = 1/64 <= 2.5%, P(X <= 1) = 7/64 is not: the extremes
        assertArrayEquals(new double[] {1, 6}, NetBench.medianInterval(List.of(6.0, 2.0, 1.0, 5.0, 3.0, 4.0)));
        // 15 values: P(X <= 3) = 1.76%, P(X <= 4) = 5.9%: the 4th smallest and the 4th largest
        List<Double> v = java.util.stream.IntStream.rangeClosed(1, 15).mapToObj(i -> (double) (16 - i)).toList();
        assertArrayEquals(new double[] {4, 12}, NetBench.medianInterval(v));
    }
}

package dev.tamp.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.fuzz.Mutations.Mutant;
import dev.tamp.formats.fuzz.Mutations.Mutator;
import dev.tamp.formats.io.CheckpointReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.opentest4j.AssertionFailedError;

/**
 * Runs a fixed, seeded number of mutated variants of a reader's seeds through it. Each read must either return
 * a model (whose weights are then touched, and whose encoded weights must be self-consistent) or throw
 * BadInputException/UnsupportedModelException with a one-line message naming the file it was given. Anything
 * else is a failure: another exception or error (OutOfMemoryError, StackOverflowError included), a read that
 * allocates far more than the input's size (a lying header trusted before validation), or one that takes
 * longer than the time limit (a hang).
 */
final class FuzzHarness {
    /** Heap a read may allocate: generous for legitimate decoding (Q4_0 dequantizes to 8x), far below a lie's. */
    static final long ALLOCATION_PER_INPUT_BYTE = 16, ALLOCATION_BASE = 32L << 20;
    static final Duration CASE_LIMIT = Duration.ofSeconds(10);

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Counts of one run, and its failures grouped by kind (exception type and where it was thrown). */
    static final class Stats {
        final String reader;
        int tried, accepted, bad, unsupported;
        final Map<String, List<String>> failures = new TreeMap<>();
        final Map<String, Integer> perSeed = new LinkedHashMap<>();

        Stats(String reader) { this.reader = reader; }

        int failed() { return failures.values().stream().mapToInt(List::size).sum(); }

        String summary() {
            return String.format("fuzz %-12s %6d cases: %5d accepted, %5d rejected (%d bad input, %d unsupported), %d failures in %d kinds; seeds %s",
                    reader, tried, accepted, bad + unsupported, bad, unsupported, failed(), failures.size(), perSeed);
        }

        String failureReport(int max) {
            StringBuilder sb = new StringBuilder();
            failures.forEach((kind, cases) -> sb.append("\n  ").append(kind).append(" (").append(cases.size()).append("x), e.g. ")
                    .append(String.join(" | ", cases.subList(0, Math.min(max, cases.size())))));
            return sb.toString();
        }
    }

    private FuzzHarness() {}

    static Stats run(String label, CheckpointReader reader, List<FuzzSeed> seeds, int cases, long seed, Path work) {
        Stats st = new Stats(label);
        SplittableRandom r = new SplittableRandom(seed);
        List<Mutator> generic = Mutations.generic();
        for (int c = 0; c < cases; c++) {
            FuzzSeed s = seeds.get(c % seeds.size());
            List<String> targets = new ArrayList<>(s.mutators().keySet());
            String target = targets.get(r.nextInt(targets.size()));
            byte[] original = s.files().get(target);
            List<Mutator> specific = s.mutators().get(target);
            Mutant m = specific.isEmpty() || r.nextBoolean()
                    ? generic.get(r.nextInt(generic.size())).apply(original, r)
                    : specific.get(r.nextInt(specific.size())).apply(original, r);
            if (r.nextInt(5) == 0 && m.bytes().length > 0) { // a second, generic mutation on top
                Mutant second = generic.get(r.nextInt(generic.size())).apply(m.bytes(), r);
                m = new Mutant(second.bytes(), m.what() + ", then " + second.what());
            }
            Path dir = work.resolve(label + "-" + c);
            write(dir, s, target, m.bytes());
            Path open = s.open().equals(".") ? dir : dir.resolve(s.open());
            String what = s.label() + " case " + c + ": " + target + " " + m.what();
            st.tried++;
            st.perSeed.merge(s.label(), 1, Integer::sum);
            readOne(reader, open, s.totalBytes() + m.bytes().length, what, st);
            delete(dir);
            // Mapped buffers are unmapped only when collected, and reads allocate little: without a collection now
            // and then, tens of thousands of cases exhaust the process's memory-map count (vm.max_map_count).
            if (c % 250 == 249) System.gc();
        }
        return st;
    }

    private static void readOne(CheckpointReader reader, Path open, long inputBytes, String what, Stats st) {
        String[] outcome = new String[1];
        Throwable[] escaped = new Throwable[1];
        long[] allocated = new long[1];
        try {
            assertTimeoutPreemptively(CASE_LIMIT, () -> {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                try {
                    Model model = reader.read(open, Progress.NONE);
                    outcome[0] = "accepted";
                    for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
                        if (e.getValue() instanceof DenseWeight d) d.tensor().toByteArray();
                        String v = EncodedInvariants.violation(e.getKey(), e.getValue());
                        if (v != null) outcome[0] = "accepted an inconsistent weight: " + v;
                    }
                } catch (BadInputException | UnsupportedModelException e) {
                    String msg = e.getMessage();
                    if (msg == null || !msg.contains(open.getFileName().toString()) || msg.contains("\n")) {
                        outcome[0] = "message does not name the file on one line: " + msg;
                    } else {
                        outcome[0] = e instanceof BadInputException ? "bad" : "unsupported";
                    }
                } catch (Throwable t) {
                    escaped[0] = t;
                } finally {
                    allocated[0] = THREADS.getCurrentThreadAllocatedBytes() - before;
                }
            });
        } catch (AssertionFailedError timeout) {
            st.failures.computeIfAbsent("hang (over " + CASE_LIMIT.toSeconds() + " s)", k -> new ArrayList<>()).add(what);
            return;
        }
        if (escaped[0] != null) {
            Throwable t = escaped[0];
            st.failures.computeIfAbsent(t.getClass().getName() + " at " + origin(t), k -> new ArrayList<>())
                    .add(what + " -> " + String.valueOf(t.getMessage()).lines().findFirst().orElse(""));
            return;
        }
        long limit = ALLOCATION_BASE + ALLOCATION_PER_INPUT_BYTE * inputBytes;
        if (allocated[0] > limit) {
            st.failures.computeIfAbsent("allocated over " + (limit >> 20) + " MiB", k -> new ArrayList<>())
                    .add(what + " -> " + (allocated[0] >> 20) + " MiB, outcome " + outcome[0]);
            return;
        }
        switch (outcome[0]) {
            case "accepted" -> st.accepted++;
            case "bad" -> st.bad++;
            case "unsupported" -> st.unsupported++;
            default -> st.failures.computeIfAbsent(outcome[0].replaceAll(":.*", ""), k -> new ArrayList<>()).add(what + " -> " + outcome[0]);
        }
    }

    /** The first frame in tamp's own code, where the escape happened. */
    private static String origin(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("dev.tamp.") && !e.getClassName().startsWith("dev.tamp.formats.fuzz")) {
                return e.getClassName().replaceAll(".*\\.", "") + "." + e.getMethodName() + ":" + e.getLineNumber();
            }
        }
        return t.getStackTrace().length > 0 ? t.getStackTrace()[0].toString() : "?";
    }

    private static void write(Path dir, FuzzSeed s, String target, byte[] mutated) {
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, byte[]> f : s.files().entrySet()) {
                Files.write(dir.resolve(f.getKey()), f.getKey().equals(target) ? mutated : f.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.delete(p);
            Files.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.tamp.core.progress;

import java.io.PrintStream;

/**
 * Progress on a stream (stderr): a redrawn bar when it is a terminal, plain periodic lines otherwise
 * (CI logs), at most one line per {@code intervalMillis}.
 */
public final class StderrProgress implements Progress {
    private final PrintStream out;
    private final boolean terminal;
    private final long intervalMillis;
    private String stage = "";
    private long total;
    private long started;
    private long lastPrint;

    public StderrProgress(PrintStream out, boolean terminal, long intervalMillis) {
        this.out = out;
        this.terminal = terminal;
        this.intervalMillis = intervalMillis;
    }

    /** Progress on System.err, a bar when a console is attached. */
    public static StderrProgress forStderr() {
        return new StderrProgress(System.err, System.console() != null, 2000);
    }

    @Override public synchronized void begin(String stage, long total) {
        this.stage = stage;
        this.total = total;
        this.started = System.nanoTime();
        this.lastPrint = 0;
        if (!terminal) out.println(stage + (total > 0 ? " (" + total + ")" : "") + " ...");
    }

    @Override public synchronized void update(long done, String detail) {
        long now = System.currentTimeMillis();
        boolean last = total > 0 && done >= total;
        if (!last && now - lastPrint < (terminal ? 100 : intervalMillis)) return;
        lastPrint = now;
        double secs = (System.nanoTime() - started) / 1e9;
        String eta = "";
        if (total > 0 && done > 0 && done < total) eta = String.format(" eta %.0fs", secs / done * (total - done));
        String count = total > 0 ? String.format("%d/%d", done, total) : Long.toString(done);
        String line = String.format("%s %s%s%s", stage, count, detail == null || detail.isEmpty() ? "" : " " + detail, eta);
        if (terminal) {
            out.print("\r" + line + "\u001b[K");
            out.flush();
        } else {
            out.println(line);
        }
    }

    @Override public synchronized void end() {
        double secs = (System.nanoTime() - started) / 1e9;
        if (terminal) out.print("\r\u001b[K");
        out.println(String.format("%s done in %.1fs", stage, secs));
    }

    @Override public synchronized void info(String message) {
        if (terminal) out.print("\r\u001b[K");
        out.println(message);
    }
}

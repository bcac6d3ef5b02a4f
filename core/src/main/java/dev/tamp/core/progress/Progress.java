package dev.tamp.core.progress;

/**
 * Progress of long work, reported on stderr by the CLI (never stdout, which carries results).
 * Methods and readers take a Progress and call it; {@link #NONE} discards everything.
 */
public interface Progress {
    /** Starts a stage of {@code total} units (0 when unknown). */
    void begin(String stage, long total);

    /** Reports that {@code done} of the current stage's units are complete, with an optional detail. */
    void update(long done, String detail);

    /** Ends the current stage. */
    void end();

    /** A one-off informational line. */
    void info(String message);

    Progress NONE = new Progress() {
        @Override public void begin(String stage, long total) {}
        @Override public void update(long done, String detail) {}
        @Override public void end() {}
        @Override public void info(String message) {}
    };
}

package dev.tamp.cli.export;

/**
 * How one weight was exported, one line of {@code tamp export}'s report: its encoding in the source, the form the target
 * file holds, and why when that is not exact (null when it is).
 */
public record ExportedTensor(String tensor, String encoding, String exportedAs, String note) {}

package dev.tamp.formats.codec;

import dev.tamp.core.error.BadInputException;
import java.util.stream.IntStream;

/**
 * Runs a row-wise conversion of a weight's [N][K] view over tiles of consecutive rows in parallel, each tile
 * read once from the tensor ({@link FloatRows}). Output does not depend on the thread count (each row writes
 * only its own slots), and neither does the error: when rows are bad input, the lowest such row is reported,
 * as "row R: problem".
 */
final class RowTiles {
    /** Converts row r, whose K floats are tile[off .. off+K). */
    interface RowWork {
        void row(int r, float[] tile, int off);
    }

    private static final int TILE_FLOATS = 1 << 16;

    private RowTiles() {}

    static void forEach(FloatRows rows, RowWork work) {
        int per = rows.tileRows(TILE_FLOATS), n = rows.rows(), k = rows.cols();
        int tiles = (n + per - 1) / per;
        BadInputException[] failures = new BadInputException[tiles];
        IntStream.range(0, tiles).parallel().forEach(ti -> {
            int first = ti * per, count = Math.min(per, n - first);
            float[] tile = new float[count * k];
            rows.read(first, count, tile);
            for (int j = 0; j < count; j++) {
                try {
                    work.row(first + j, tile, j * k);
                } catch (BadInputException e) {
                    failures[ti] = new BadInputException("row " + (first + j) + ": " + e.getMessage(), e);
                    return;
                }
            }
        });
        for (BadInputException e : failures) if (e != null) throw e;
    }
}

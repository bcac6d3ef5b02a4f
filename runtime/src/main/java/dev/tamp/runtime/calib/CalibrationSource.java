package dev.tamp.runtime.calib;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import java.util.function.Predicate;

/**
 * A fixed calibration set that can be run through any version of a model. Block-wise methods (AWQ with
 * compressed propagation, SparseGPT, COMPOT) run it once per block, each time on the model whose earlier
 * blocks are already compressed, observing only the block's own linear layers.
 */
@FunctionalInterface
public interface CalibrationSource {
    /** @param sampleRows real (unpadded) tokens to keep per linear input besides the statistics (0: none) */
    CalibrationStats collect(Model model, Predicate<LinearLayers.Linear> which, boolean withGram, int sampleRows, Progress progress);
}

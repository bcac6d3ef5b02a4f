package dev.tamp.runtime.calib;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Drives a block-wise compression method (AWQ, GPTQ, SparseGPT, Wanda, calibration itself) over a calibration set,
 * block by block in model order: collect the statistics of the block's linear inputs, let the method compress the
 * block, and feed the next block what this one now computes (compressed weights, or the float ones with
 * {@code propagateCompressed = false}).
 *
 * <p>Two ways to get there, same numbers (tested byte for byte):
 * <ul>
 *   <li>{@link Mode#SEQUENTIAL} (the default; llm-compressor's "sequential" onloading): the graph is cut into
 *       {@link BlockGraph} segments and each batch's hidden state is pushed through one segment at a time and kept
 *       between segments — L block evaluations in all (2L with compressed propagation: the statistics pass, then the
 *       compressed block once more), and only one block's weights are materialised at a time;</li>
 *   <li>{@link Mode#WHOLE_MODEL}: the whole model is re-run from the embeddings for every block — the reference, and
 *       the fallback for graphs without numbered blocks.</li>
 * </ul>
 */
public final class BlockwiseCalibration {
    public enum Mode { SEQUENTIAL, WHOLE_MODEL }

    /** One method's work on one block. */
    @FunctionalInterface
    public interface BlockStep {
        /**
         * Compresses the linears of {@code block} (their inputs' statistics in {@code stats}).
         *
         * @return the weights the block now computes with (decoded to floats), replacing the originals for the blocks
         *         after it; empty when nothing changed
         */
        Map<String, EncodedTensor> apply(int block, CalibrationStats stats);
    }

    private BlockwiseCalibration() {}

    /** The block each linear belongs to, by the name rule every block-wise method shares. */
    public static TreeMap<Integer, List<LinearLayers.Linear>> byBlock(List<LinearLayers.Linear> linears) {
        TreeMap<Integer, List<LinearLayers.Linear>> blocks = new TreeMap<>();
        for (LinearLayers.Linear l : linears) blocks.computeIfAbsent(TransformerBlocks.indexOf(l.name(), l.weight()), b -> new ArrayList<>()).add(l);
        return blocks;
    }

    /**
     * Runs {@code step} for every block that holds one of {@code linears}, in block order.
     *
     * @return the mode that ran (SEQUENTIAL falls back to WHOLE_MODEL when the graph cannot be cut into blocks)
     */
    public static Mode run(Model model, CalibrationSource source, List<LinearLayers.Linear> linears, boolean withGram, int sampleRows,
                           boolean propagateCompressed, Mode mode, BlockStep step, Progress progress) {
        TreeMap<Integer, List<LinearLayers.Linear>> blocks = byBlock(linears);
        if (blocks.isEmpty()) return mode;
        if (mode == Mode.SEQUENTIAL) {
            Optional<BlockGraph> cut = BlockGraph.cut(model).filter(g -> fits(g, blocks));
            if (cut.isPresent()) {
                sequential(cut.get(), model, source, blocks, withGram, sampleRows, propagateCompressed, step, progress);
                return Mode.SEQUENTIAL;
            }
            progress.info("the graph has no numbered transformer blocks to run one at a time; re-running the whole model per block");
        }
        wholeModel(model, source, blocks, withGram, sampleRows, propagateCompressed, step);
        return Mode.WHOLE_MODEL;
    }

    /**
     * Calibration statistics of every linear {@code which} accepts, gathered block by block on the float model (one
     * block's weights materialised at a time). {@code perBlock} receives each block's statistics as soon as they are
     * complete (a streaming stats writer), in model order.
     */
    public static void collect(Model model, CalibrationSource source, Predicate<LinearLayers.Linear> which, boolean withGram, int sampleRows,
                               Consumer<CalibrationStats> perBlock, Progress progress) {
        List<LinearLayers.Linear> linears = LinearLayers.of(model).stream().filter(which).toList();
        if (linears.isEmpty()) return;
        int total = byBlock(linears).size();
        int[] done = {0};
        progress.begin("calibrate", total);
        run(model, source, linears, withGram, sampleRows, false, Mode.SEQUENTIAL, (block, stats) -> {
            perBlock.accept(stats);
            progress.update(++done[0], BlockGraph.label(block));
            return Map.of();
        }, progress);
        progress.end();
    }

    /** {@link #collect(Model, CalibrationSource, Predicate, boolean, int, Consumer, Progress)} into one statistics object. */
    public static CalibrationStats collect(Model model, CalibrationSource source, Predicate<LinearLayers.Linear> which, boolean withGram,
                                           int sampleRows, Progress progress) {
        Map<String, ChannelStats> byInput = new LinkedHashMap<>();
        Map<String, String> inputOf = new LinkedHashMap<>();
        collect(model, source, which, withGram, sampleRows, s -> {
            byInput.putAll(s.byInput());
            inputOf.putAll(s.inputOfWeight());
        }, progress);
        return new CalibrationStats(byInput, inputOf, source.info());
    }

    /** Every linear's node sits in the segment of its own block (else a method's grouping and the cut disagree). */
    private static boolean fits(BlockGraph g, TreeMap<Integer, List<LinearLayers.Linear>> blocks) {
        Map<String, Integer> segmentOf = new HashMap<>();
        for (BlockGraph.Segment s : g.segments()) for (var n : s.model().graph().nodes()) segmentOf.put(n.label(), s.block());
        for (Map.Entry<Integer, List<LinearLayers.Linear>> e : blocks.entrySet()) {
            for (LinearLayers.Linear l : e.getValue()) {
                if (!e.getKey().equals(segmentOf.get(l.node().label()))) return false;
            }
        }
        return true;
    }

    private static void wholeModel(Model model, CalibrationSource source, TreeMap<Integer, List<LinearLayers.Linear>> blocks,
                                   boolean withGram, int sampleRows, boolean propagateCompressed, BlockStep step) {
        Set<String> all = new HashSet<>();
        for (List<LinearLayers.Linear> ls : blocks.values()) for (LinearLayers.Linear l : ls) all.add(l.node().label());
        CalibrationStats fp = propagateCompressed ? null
                : source.collect(model, l -> all.contains(l.node().label()), withGram, sampleRows, Progress.NONE);
        Map<String, EncodedTensor> working = new LinkedHashMap<>(model.weights());
        for (Map.Entry<Integer, List<LinearLayers.Linear>> block : blocks.entrySet()) {
            Set<String> nodes = new HashSet<>();
            for (LinearLayers.Linear l : block.getValue()) nodes.add(l.node().label());
            CalibrationStats stats = fp != null ? only(fp, block.getValue())
                    : source.collect(model.withWeights(working), l -> nodes.contains(l.node().label()), withGram, sampleRows, Progress.NONE);
            working.putAll(step.apply(block.getKey(), stats));
        }
    }

    /** The statistics of these linears' inputs only, in the order they were observed. */
    private static CalibrationStats only(CalibrationStats all, List<LinearLayers.Linear> linears) {
        Set<String> inputs = new HashSet<>();
        for (LinearLayers.Linear l : linears) inputs.add(l.input());
        Map<String, ChannelStats> byInput = new LinkedHashMap<>();
        all.byInput().forEach((k, v) -> { if (inputs.contains(k)) byInput.put(k, v); });
        return new CalibrationStats(byInput, CalibrationSource.inputOfWeight(linears), all.info());
    }

    private static void sequential(BlockGraph g, Model model, CalibrationSource source, TreeMap<Integer, List<LinearLayers.Linear>> blocks,
                                   boolean withGram, int sampleRows, boolean propagateCompressed, BlockStep step, Progress progress) {
        Set<String> graphInputs = new HashSet<>();
        for (ValueInfo v : model.graph().inputs()) graphInputs.add(v.name());
        List<CalibrationSource.Batch> batches = source.batches();
        List<Map<String, Value>> states = new ArrayList<>();
        for (CalibrationSource.Batch b : batches) states.add(new HashMap<>(b.inputs(graphInputs)));
        int lastNeeded = blocks.lastKey();
        boolean estimated = false;
        for (BlockGraph.Segment seg : g.segments()) {
            if (!estimated && seg.block() != BlockGraph.PREFIX) {
                estimate(g, blocks, states, batches, withGram, progress);
                estimated = true;
            }
            if (seg.block() > lastNeeded) break; // nothing after this reads the statistics: skip the head and its logits
            List<LinearLayers.Linear> ls = blocks.get(seg.block());
            boolean keepOutputs = seg.block() != lastNeeded;
            if (ls == null) {
                pass(seg.model(), seg, batches, states, null, Outputs.INTO_STATES, source);
            } else {
                long t0 = System.nanoTime();
                CalibrationObserver obs = new CalibrationObserver(ls, withGram, sampleRows, Parallel.shared());
                List<Map<String, Value>> outputs = pass(seg.model(), seg, batches, states, obs, keepOutputs ? Outputs.RETURN : Outputs.DISCARD, source);
                CalibrationStats stats = new CalibrationStats(obs.stats(), CalibrationSource.inputOfWeight(ls), source.info());
                long t1 = System.nanoTime();
                Map<String, EncodedTensor> replaced = step.apply(seg.block(), stats);
                long t2 = System.nanoTime(), t3 = t2;
                if (keepOutputs) {
                    if (propagateCompressed && !replaced.isEmpty()) {
                        Map<String, EncodedTensor> w = new LinkedHashMap<>(seg.model().weights());
                        for (Map.Entry<String, EncodedTensor> e : replaced.entrySet()) if (w.containsKey(e.getKey())) w.put(e.getKey(), e.getValue());
                        outputs = pass(seg.model().withWeights(w), seg, batches, states, null, Outputs.RETURN, source);
                        t3 = System.nanoTime();
                    }
                    for (int i = 0; i < states.size(); i++) states.get(i).putAll(outputs.get(i));
                }
                progress.info(String.format(java.util.Locale.ROOT, "%s in %.1f s: statistics pass %.1f s, method %.1f s%s", BlockGraph.label(seg.block()),
                        (t3 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, t3 > t2 ? String.format(java.util.Locale.ROOT, ", compressed re-run %.1f s", (t3 - t2) / 1e9) : ""));
            }
            for (Map<String, Value> s : states) s.keySet().removeAll(seg.dropAfter());
        }
    }

    /**
     * Says, before the long part starts, what the pass will hold at its peak besides the method's own output: every
     * batch's hidden state (twice while a block's outputs replace its inputs), the largest block's weights as the
     * kernels hold them (F32 for float checkpoints) and that block's Gram matrices. Warns when that is near the heap.
     */
    private static void estimate(BlockGraph g, TreeMap<Integer, List<LinearLayers.Linear>> blocks, List<Map<String, Value>> states,
                                 List<CalibrationSource.Batch> batches, boolean withGram, Progress progress) {
        long stateBytes = 0;
        for (Map<String, Value> s : states) for (Value v : s.values()) stateBytes += (long) v.size() * (v.isFloat() ? 4 : 8);
        long weights = 0, gram = 0, widest = 0;
        for (BlockGraph.Segment seg : g.segments()) {
            if (seg.block() > blocks.lastKey()) break; // never run
            long w = 0;
            for (EncodedTensor t : seg.model().weights().values()) w += 4 * t.numel();
            weights = Math.max(weights, w);
            for (LinearLayers.Linear l : LinearLayers.of(seg.model())) widest = Math.max(widest, l.outFeatures());
            long gb = 0;
            Set<String> inputs = new HashSet<>();
            for (LinearLayers.Linear l : blocks.getOrDefault(seg.block(), List.of())) {
                if (withGram && inputs.add(l.input())) gb += 8L * l.inFeatures() * l.inFeatures();
            }
            gram = Math.max(gram, gb);
        }
        // one batch in flight: a few live copies of its widest activation (FFN up, or the head's logits), and
        // attention scores when the config says the head count
        long rows = 0, seqSq = 0;
        for (CalibrationSource.Batch b : batches) {
            rows = Math.max(rows, (long) b.rows() * b.length());
            seqSq = Math.max(seqSq, (long) b.rows() * b.length() * b.length());
        }
        Object heads = g.segments().get(0).model().config().get("num_attention_heads");
        long attention = heads instanceof Number h ? 3L * 4 * h.longValue() * seqSq : 0;
        long batch = 4L * 4 * rows * widest + attention;
        long total = 2 * stateBytes + weights + gram + batch, heap = Runtime.getRuntime().maxMemory();
        String line = String.format(java.util.Locale.ROOT,
                "block by block: %d blocks × %d batches; hidden states %.2f GB, largest block %.2f GB as the kernels hold it, "
                        + "its Gram matrices %.2f GB, one batch's activations %.2f GB: about %.1f GB at the peak besides the "
                        + "output, of a %.1f GB heap",
                blocks.size(), states.size(), stateBytes / 1e9, weights / 1e9, gram / 1e9, batch / 1e9, total / 1e9, heap / 1e9);
        progress.info(line);
        if (total > 0.8 * heap) {
            progress.info("WARNING: that is near the heap; if it runs out, raise --max-memory or use a smaller --batch-size, fewer "
                    + "--samples or a shorter --seq-len");
        }
    }

    /** Where a segment pass puts its outputs: into each batch's state, returned per batch (a compressed re-run may replace them), or nowhere. */
    private enum Outputs { INTO_STATES, RETURN, DISCARD }

    private static List<Map<String, Value>> pass(Model segmentModel, BlockGraph.Segment seg, List<CalibrationSource.Batch> batches,
                                                 List<Map<String, Value>> states, CalibrationObserver obs, Outputs where,
                                                 CalibrationSource source) {
        List<Map<String, Value>> outs = where == Outputs.RETURN ? new ArrayList<>() : null;
        try (Session s = source.backend().open(segmentModel)) {
            for (int i = 0; i < batches.size(); i++) {
                Map<String, Value> state = states.get(i);
                Map<String, Value> in = new HashMap<>();
                for (String name : seg.inputs()) in.put(name, state.get(name));
                if (obs != null) obs.setRowMask(batches.get(i).rowMask());
                Map<String, Value> out = s.run(in, seg.outputs(), obs == null ? dev.tamp.runtime.exec.ExecutionListener.NONE : obs);
                if (where == Outputs.INTO_STATES) state.putAll(out);
                else if (where == Outputs.RETURN) outs.add(out);
            }
        }
        return outs;
    }
}

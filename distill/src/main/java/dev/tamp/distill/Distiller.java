package dev.tamp.distill;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.progress.Progress;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Encoding;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.torch.TrainableGraph;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Knowledge distillation of a compressed student towards its teacher on libtorch autograd (algorithms.md §5).
 * Encoders: the loss compares the mean-pooled (or [CLS]), L2-normalised sentence embeddings (MSE = 2(1−cos), or 1−cos).
 * Decoders: KL(teacher‖student) of the next-token distributions at temperature T, times T². The student's linear
 * weights are trained as float masters (2:4 mask fixed; int and MX through fake quantization with a straight-through
 * estimator; COMPOT and low-rank weights as their factors) by AdamW with linear warm-up and cosine decay, on
 * calibration-split sentences in a seeded order; the held-out split is never trained on. With a feature weight λ &gt;
 * 0 the loss adds λ times the per-layer feature loss: the relative squared error ‖s − t‖² / ‖t‖² over unpadded tokens
 * of every activation that feeds a linear layer (both graphs name it alike), averaged over them, plus (encoders) the
 * per-token final hidden state. Matching intermediate activations gives each layer its own target instead of one
 * pooled vector per sentence, the layer-wise distillation that sparse-model recovery (e.g. oBERT, arXiv 2203.07259)
 * relies on.
 */
public final class Distiller {
    /** Sentences drawn from the calibration split (the data order reshuffles each pass over them). */
    static final int POOL = 20000;

    /** The result: the student with trained weights, and the loss trajectory. */
    public record Result(Model student, int steps, int startStep, float firstLoss, float lastLoss, double[] losses, double seconds,
            List<String> trained, Map<String, Integer> formatCounts) {}

    /** Steps timed (after the first) for the expected-time line. */
    static final int TIMED_STEPS = 5;

    private Distiller() {}

    static String duration(double seconds) {
        return seconds < 90 ? String.format(java.util.Locale.ROOT, "%.0f s", seconds)
                : seconds < 5400 ? String.format(java.util.Locale.ROOT, "%.1f min", seconds / 60)
                : String.format(java.util.Locale.ROOT, "%.1f h", seconds / 3600);
    }

    public static Result distill(Model teacher, Model student, Tokenizer tokenizer, DistillOptions o, Progress progress) {
        System.setProperty("ai.djl.offline", "true");
        boolean decoder = student.graph().outputs().stream().anyMatch(v -> v.name().equals("logits"));
        if (decoder != teacher.graph().outputs().stream().anyMatch(v -> v.name().equals("logits"))) {
            throw new BadInputException("teacher " + teacher.source() + " and student " + student.source() + " are not both encoders or both decoders");
        }
        if (decoder && o.loss() != DistillOptions.Loss.KL) throw new BadInputException("decoders distil with --loss kl (the logits' KL)");
        if (!decoder && o.loss() == DistillOptions.Loss.KL) throw new BadInputException("--loss kl needs a decoder; encoders use mse or cosine");
        String out = decoder ? "logits" : hiddenOutput(student);
        Pooling pooling = decoder ? null : Pooling.forModel(student);
        boolean mx = !o.mxFormats().isEmpty();

        List<StudentWeight> params = new ArrayList<>();
        for (LinearWeights.Target t : LinearWeights.select(student, List.of())) {
            EncodedTensor w = student.weights().get(t.weight());
            if (w == null) continue;
            params.add(StudentWeight.of(t.weight(), w, t.kAxis(), mx));
        }
        if (params.isEmpty()) throw new UnsupportedModelException(student.source() + ": no linear weights to train");
        List<String> names = params.stream().map(p -> p.name).toList();
        float[][] m = new float[params.size()][], v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).master.length];
            v[i] = new float[params.get(i).master.length];
        }
        int start = 0;
        double[] losses = new double[o.steps()];
        if (o.resume() != null) {
            start = Checkpoint.read(o.resume(), o.fingerprint(), params, m, v, losses);
            progress.info("resuming from " + o.resume() + " at step " + start);
        }

        List<String> pool = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE,
                Math.min(POOL, o.steps() * o.batch()), o.seed(), 0);
        if (pool.isEmpty()) throw new BadInputException("no calibration sentences");
        List<String> features = o.featureWeight() > 0 ? featureTargets(teacher, student, decoder ? null : out) : List.of();
        if (o.featureWeight() > 0 && features.isEmpty()) {
            throw new UnsupportedModelException(student.source() + ": no activations shared with the teacher for --feature-loss");
        }
        List<String> teacherOuts = new ArrayList<>();
        teacherOuts.add(teacherOutput(teacher, decoder));
        for (String f : features) if (!teacherOuts.contains(f)) teacherOuts.add(f);
        List<String> studentOuts = new ArrayList<>();
        studentOuts.add(out);
        for (String f : features) if (!studentOuts.contains(f)) studentOuts.add(f);
        Map<String, Integer> formatCounts = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try (TrainableGraph tg = new TrainableGraph(teacher, java.util.Set.of());
             TrainableGraph sg = new TrainableGraph(student, new java.util.HashSet<>(names))) {
            progress.info(String.format(java.util.Locale.ROOT, "distill: steps %d-%d of %d sentences × ≤ %d tokens, lr %.2g%s; expected time after " + (TIMED_STEPS + 1) + " steps",
                    start + 1, o.steps(), o.batch(), o.seq(), o.lr(), o.featureWeight() > 0 ? ", feature loss " + o.featureWeight() : ""));
            progress.begin("distill", o.steps());
            long stepStart = System.nanoTime();
            double[] stepTimes = new double[TIMED_STEPS];
            for (int step = start; step < o.steps(); step++) {
                List<String> texts = batch(pool, step, o.batch(), o.seed());
                Map<String, Value> inputs = inputs(student, tokenizer, texts, o.seq());
                long[] mask = inputs.get("attention_mask") != null ? inputs.get("attention_mask").longs : null;
                MxFormat fmt = mx ? o.mxFormats().get(new SplittableRandom(o.seed() * 1_000_003L + step).nextInt(o.mxFormats().size())) : null;
                if (fmt != null) formatCounts.merge(fmt.cliName(), 1, Integer::sum);
                float lossValue;
                float[][] grads = new float[params.size()][];
                try (NDManager run = sg.manager().newSubManager()) {
                    Map<String, Value> tin = new HashMap<>(inputs);
                    NDArray target;
                    Map<String, NDArray> featureTargets = new HashMap<>();
                    try (NDManager tr = tg.manager().newSubManager()) {
                        Map<String, NDArray> tout = tg.forward(tr, Map.of(), teacherInputs(teacher, tin), teacherOuts);
                        NDArray th = tout.get(teacherOuts.get(0));
                        target = decoder ? th.duplicate() : pool(th, mask, pooling, tr).duplicate();
                        target.attach(run);
                        for (String f : features) {
                            NDArray ft = tout.get(f).duplicate();
                            ft.attach(run);
                            featureTargets.put(f, ft);
                        }
                    }
                    Map<String, NDArray> ps = new HashMap<>();
                    for (StudentWeight p : params) {
                        NDArray a = run.create(p.effective(fmt, o.anchor()), new Shape(p.shape));
                        a.setRequiresGradient(true);
                        ps.put(p.name, a);
                    }
                    try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                        Map<String, NDArray> sout = sg.forward(run, ps, inputs, studentOuts);
                        NDArray sh = sout.get(out);
                        NDArray loss = decoder ? klLoss(sh, target, o.temperature(), mask, run) : embeddingLoss(pool(sh, mask, pooling, run), target, o.loss());
                        if (!features.isEmpty()) {
                            NDArray fl = null;
                            for (String f : features) {
                                NDArray e = relativeError(sout.get(f), featureTargets.get(f), mask, run);
                                fl = fl == null ? e : fl.add(e);
                            }
                            loss = loss.add(fl.div((float) features.size()).mul(o.featureWeight()));
                        }
                        lossValue = loss.toFloatArray()[0];
                        gc.backward(loss);
                    }
                    for (int i = 0; i < params.size(); i++) grads[i] = ps.get(params.get(i).name).getGradient().toFloatArray();
                }
                if (!Float.isFinite(lossValue)) throw new UnsupportedModelException("distillation diverged at step " + (step + 1) + " (loss " + lossValue + "); lower --lr");
                losses[step] = lossValue;
                float lr = AdamW.learningRate(step + 1, o.steps(), o.warmup(), o.lr());
                for (int i = 0; i < params.size(); i++) {
                    StudentWeight p = params.get(i);
                    AdamW.step(p.master, p.parameterGradient(grads[i]), m[i], v[i], step + 1, lr, o.weightDecay());
                }
                progress.update(step + 1, String.format(java.util.Locale.ROOT, "loss %.5f lr %.2e%s", lossValue, lr, fmt == null ? "" : " " + fmt.cliName()));
                if (step == start) {
                    stepStart = System.nanoTime(); // the first step carries libtorch's and the JIT's warm-up: not timed
                } else if (step == start + TIMED_STEPS && step + 1 < o.steps()) {
                    // the median of a few steps, so one step slowed by other work on the machine does not set the estimate
                    stepTimes[TIMED_STEPS - 1] = (System.nanoTime() - stepStart) / 1e9;
                    double[] sorted = stepTimes.clone();
                    java.util.Arrays.sort(sorted);
                    double secs = sorted[TIMED_STEPS / 2];
                    progress.info(String.format(java.util.Locale.ROOT, "distill: expected %s for the remaining %d steps (%.2f s per step)",
                            duration(secs * (o.steps() - step - 1)), o.steps() - step - 1, secs));
                } else if (step < start + TIMED_STEPS) {
                    stepTimes[step - start - 1] = (System.nanoTime() - stepStart) / 1e9;
                    stepStart = System.nanoTime();
                }
                if (o.checkpointEvery() > 0 && (step + 1) % o.checkpointEvery() == 0 && step + 1 < o.steps()) {
                    Checkpoint.write(o.checkpointDir(), o.fingerprint(), step + 1, params, m, v, losses);
                }
            }
            progress.end();
        }
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(student.weights());
        for (StudentWeight p : params) weights.put(p.name, p.encode(o.anchor()));
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Result(student.withWeights(weights), o.steps(), start, (float) losses[start], (float) losses[o.steps() - 1], losses, secs,
                names, formatCounts);
    }

    /** The step's sentences: pass {@code e} over the pool in the order of a shuffle seeded by (seed, e). */
    static List<String> batch(List<String> pool, int step, int batch, long seed) {
        List<String> out = new ArrayList<>(batch);
        int[] perm = null;
        int permEpoch = -1;
        for (int i = 0; i < batch; i++) {
            long g = (long) step * batch + i;
            int epoch = (int) (g / pool.size()), at = (int) (g % pool.size());
            if (epoch != permEpoch) {
                perm = shuffle(pool.size(), seed * 31 + epoch);
                permEpoch = epoch;
            }
            out.add(pool.get(perm[at]));
        }
        return out;
    }

    private static int[] shuffle(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static Map<String, Value> inputs(Model model, Tokenizer tokenizer, List<String> texts, int seq) {
        List<Encoding> enc = tokenizer.encodeBatch(texts, seq, true);
        int n = enc.size(), len = enc.get(0).length();
        long[] ids = new long[n * len], mask = new long[n * len], types = new long[n * len];
        for (int i = 0; i < n; i++) {
            Encoding e = enc.get(i);
            for (int t = 0; t < len; t++) {
                ids[i * len + t] = e.ids()[t];
                mask[i * len + t] = e.attentionMask()[t];
                types[i * len + t] = e.typeIds()[t];
            }
        }
        List<String> names = model.graph().inputs().stream().map(ValueInfo::name).toList();
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(ids, n, len));
        in.put("attention_mask", Value.longs(mask, n, len));
        if (names.contains("token_type_ids")) in.put("token_type_ids", Value.longs(types, n, len));
        for (String name : names) {
            if (!in.containsKey(name)) throw new UnsupportedModelException(model.source() + ": graph input " + name + " cannot be fed by distill");
        }
        return in;
    }

    private static Map<String, Value> teacherInputs(Model teacher, Map<String, Value> in) {
        Map<String, Value> r = new HashMap<>();
        for (ValueInfo v : teacher.graph().inputs()) {
            Value x = in.get(v.name());
            if (x == null) throw new UnsupportedModelException(teacher.source() + ": graph input " + v.name() + " cannot be fed by distill");
            r.put(v.name(), x);
        }
        return r;
    }

    private static String teacherOutput(Model teacher, boolean decoder) {
        return decoder ? "logits" : hiddenOutput(teacher);
    }

    static String hiddenOutput(Model m) {
        return m.graph().outputs().stream().filter(v -> v.dims() == null || v.dims().size() == 3).map(ValueInfo::name).findFirst()
                .orElseThrow(() -> new UnsupportedModelException(m.source() + ": no [batch, seq, hidden] output to pool"));
    }

    /** Mean over unmasked tokens (or [CLS]), L2-normalised: [B][D]. */
    static NDArray pool(NDArray h, long[] mask, Pooling pooling, NDManager mgr) {
        long b = h.getShape().get(0), len = h.getShape().get(1);
        NDArray e;
        if (pooling == Pooling.CLS) {
            e = h.get(":, 0, :");
        } else {
            NDArray mk = mask == null ? mgr.ones(new Shape(b, len, 1)) : maskTensor(mask, mgr, new Shape(b, len, 1));
            e = h.mul(mk).sum(new int[] {1}).div(mk.sum(new int[] {1}).maximum(1f));
        }
        NDArray norm = e.mul(e).sum(new int[] {1}, true).add(1e-24f).sqrt();
        return e.div(norm);
    }

    /** MSE: mean over the batch of ‖e_s − e_t‖² (= 2(1 − cos) for unit vectors); COSINE: mean of 1 − cos. */
    static NDArray embeddingLoss(NDArray es, NDArray et, DistillOptions.Loss loss) {
        if (loss == DistillOptions.Loss.COSINE) return es.mul(et).sum(new int[] {1}).neg().add(1f).mean();
        NDArray d = es.sub(et);
        return d.mul(d).sum(new int[] {1}).mean();
    }

    /**
     * The activations the feature loss matches: the input of every linear layer of the student that the teacher's graph
     * also computes (graph inputs and weights excluded), in graph order, then {@code hidden} (the per-token output) if given.
     */
    static List<String> featureTargets(Model teacher, Model student, String hidden) {
        java.util.Set<String> computed = computed(teacher), studentComputed = computed(student);
        java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
        for (LinearLayers.Linear l : LinearLayers.of(student)) {
            if (computed.contains(l.input()) && studentComputed.contains(l.input())) out.add(l.input());
        }
        if (hidden != null && computed.contains(hidden)) out.add(hidden);
        return new ArrayList<>(out);
    }

    private static java.util.Set<String> computed(Model m) {
        java.util.Set<String> values = new java.util.HashSet<>();
        for (dev.tamp.core.ir.Node n : m.graph().nodes()) values.addAll(n.outputs());
        return values;
    }

    /** ‖s − t‖² / ‖t‖² over the unpadded tokens when the first two axes are [batch, seq], else over everything. */
    static NDArray relativeError(NDArray s, NDArray t, long[] mask, NDManager mgr) {
        NDArray d = s.sub(t);
        NDArray d2 = d.mul(d), t2 = t.mul(t);
        Shape sh = s.getShape();
        if (mask != null && sh.dimension() >= 2 && sh.get(0) * sh.get(1) == mask.length) {
            long[] dims = new long[sh.dimension()];
            java.util.Arrays.fill(dims, 1);
            dims[0] = sh.get(0);
            dims[1] = sh.get(1);
            NDArray mk = maskTensor(mask, mgr, new Shape(dims));
            d2 = d2.mul(mk);
            t2 = t2.mul(mk);
        }
        return d2.sum().div(t2.sum().add(1e-12f));
    }

    /** The attention mask (1 = token, 0 = padding) as a float tensor of the given shape, for masking and counting. */
    static NDArray maskTensor(long[] mask, NDManager mgr, Shape shape) {
        float[] mf = new float[mask.length];
        for (int i = 0; i < mf.length; i++) mf[i] = mask[i];
        return mgr.create(mf, shape);
    }

    /** T²·mean over unpadded positions of KL(softmax(t/T) ‖ softmax(s/T)) on the last axis ([B][L][V] logits). */
    static NDArray klLoss(NDArray s, NDArray t, float temperature, long[] mask, NDManager mgr) {
        int last = s.getShape().dimension() - 1;
        NDArray lt = t.div(temperature).logSoftmax(last), ls = s.div(temperature).logSoftmax(last);
        NDArray kl = lt.exp().mul(lt.sub(ls)).sum(new int[] {last});
        if (mask != null && kl.getShape().size() == mask.length) {
            NDArray mk = maskTensor(mask, mgr, kl.getShape());
            return kl.mul(mk).sum().div(mk.sum().maximum(1f)).mul(temperature * temperature);
        }
        return kl.mean().mul(temperature * temperature);
    }
}

package dev.tamp.cli.export;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.onnx.OnnxWriter;
import dev.tamp.runtime.kernels.WeightDecoders;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model whose graph came from ONNX, written back as ONNX that ONNX Runtime runs (formats.md §4.3, §4.4, §6.3).
 *
 * <ul>
 *   <li>{@link Weights#FP32}: every encoded weight decoded to float32 in the graph's layout.</li>
 *   <li>{@link Weights#QDQ}: grouped int8/int4 codes and exactly-mappable MX blocks become int8/uint8
 *       initializers dequantized by {@code DequantizeLinear}. Blocks are expressed with per-axis DQ (opset 13)
 *       over a {@code [N·groups][group]} view, then {@code Reshape} to {@code [N][K]} and, for MatMul weights
 *       stored {@code [K][N]}, {@code Transpose}: exact, and valid at the graph's own opset (blocked DQ needs
 *       opset 21, and raising the opset would change the meaning of other ops in the graph).</li>
 *   <li>{@link Weights#NBITS}: 4-bit grouped weights feeding a MatMul become {@code com.microsoft.MatMulNBits}
 *       (B as uint8 {@code [N][blocks][block/2]}, codes low nibble first; flat float scales; packed uint8 zero
 *       points only when asymmetric); other quantized weights take the QDQ path.</li>
 * </ul>
 * Whatever has no exact mapping is decoded to float32 and listed with a note.
 */
public final class OnnxExport {
    public enum Weights { FP32, QDQ, NBITS }

    /** The ONNX-ready model (dense initializers only) and one entry per encoded weight. */
    public record Result(Model model, List<ExportedTensor> entries) {}

    private static final String MS_DOMAIN = "com.microsoft";

    private OnnxExport() {}

    /** Builds and writes (temp file + rename, deterministic bytes). */
    public static List<ExportedTensor> write(Model model, Weights mode, Path out) {
        Result r = build(model, mode);
        OnnxWriter.write(r.model(), out);
        return r.entries();
    }

    public static Result build(Model model, Weights mode) {
        requireOnnxGraph(model);
        Graph g = model.graph();
        long opset = model.opsets().getOrDefault("", model.opsets().getOrDefault("ai.onnx", 0L));
        Map<String, List<Node>> consumers = g.consumers();
        Map<String, EncodedTensor> weights = new LinkedHashMap<>();
        List<Node> prefix = new ArrayList<>();
        Map<Node, Node> replaced = new java.util.IdentityHashMap<>();
        Map<Node, List<Node>> before = new java.util.IdentityHashMap<>(); // activation chains, placed just ahead of their linear
        List<ExportedTensor> entries = new ArrayList<>();
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            String name = e.getKey();
            EncodedTensor w = e.getValue();
            if (w instanceof DenseWeight) {
                weights.put(name, w);
                continue;
            }
            String note = null;
            if (mode != Weights.FP32) {
                if (mode == Weights.NBITS && w instanceof IntGroupedWeight q) {
                    String why = nbitsObstacle(q, name, consumers.getOrDefault(name, List.of()));
                    if (why == null) {
                        Node mm = consumers.get(name).get(0);
                        replaced.put(mm, matMulNBits(name, q, mm, weights));
                        entries.add(new ExportedTensor(name, w.describe(), "MatMulNBits(bits=4, block_size=" + q.groupSize() + ")", null));
                        continue;
                    }
                    note = why + "; written as QDQ";
                }
                if (opset < 13) {
                    note = "per-axis DequantizeLinear needs opset 13, the graph has " + opset;
                } else if (w instanceof IntGroupedWeight q && actsQuantized(q)) {
                    String why = activationObstacle(q, name, consumers.getOrDefault(name, List.of()));
                    Blocks b = why == null ? intBlocks(q, true) : null;
                    if (b != null && b.obstacle == null) {
                        dequantChain(name, w, b, weights, prefix);
                        for (Node mm : consumers.get(name)) {
                            String x = activationChain(name, q, mm.inputs().get(0), opset, weights, before.computeIfAbsent(mm, k -> new ArrayList<>()));
                            List<String> in = new ArrayList<>(mm.inputs());
                            in.set(0, x);
                            replaced.put(mm, new Node(mm.name(), mm.opType(), mm.domain(), in, mm.outputs(), mm.attributes()));
                        }
                        entries.add(new ExportedTensor(name, w.describe(), dequantForm(w, b) + activationForm(q), note));
                        continue;
                    }
                    String reason = why != null ? why : b.obstacle;
                    note = note == null ? reason : note + "; " + reason;
                } else {
                    Blocks b = w instanceof IntGroupedWeight q ? intBlocks(q) : w instanceof MxWeight m ? mxBlocks(name, m) : null;
                    if (b != null && b.obstacle == null) {
                        dequantChain(name, w, b, weights, prefix);
                        entries.add(new ExportedTensor(name, w.describe(), dequantForm(w, b), note != null && w instanceof IntGroupedWeight ? note : null));
                        continue;
                    }
                    String why = b != null ? b.obstacle : "no exact DequantizeLinear form for " + w.describe();
                    note = note == null ? why : note + "; " + why;
                }
            }
            weights.put(name, new DenseWeight(Tensor.ofFloats(decodeAsStored(name, w), w.shape())));
            String act = w instanceof IntGroupedWeight q && (q.activationBits() > 0 || q.activationScale() > 0)
                    ? "activation quantization not exported (weights only)" : null;
            String all = mode == Weights.FP32 ? act : join(note == null ? null : note + "; decoded to float32", act);
            entries.add(new ExportedTensor(name, w.describe(), "float32", all));
        }
        List<Node> nodes = new ArrayList<>(prefix);
        for (Node n : g.nodes()) {
            nodes.addAll(before.getOrDefault(n, List.of()));
            nodes.add(replaced.getOrDefault(n, n));
        }
        Map<String, Long> opsets = new LinkedHashMap<>(model.opsets());
        if (!replaced.isEmpty()) opsets.putIfAbsent(MS_DOMAIN, 1L);
        Model out = model.withGraph(g.withNodes(nodes)).withWeights(weights).withOpsets(opsets);
        return new Result(out, entries);
    }

    /** ONNX export rebuilds the graph the model was read with; models without one (or with tamp-only ops) cannot. */
    static void requireOnnxGraph(Model model) {
        if (model.graph() == null || model.opsets().isEmpty()) {
            throw new UnsupportedModelException(model.source() + ": ONNX export needs a model whose graph came from ONNX; this "
                    + model.architecture() + " model has none (export it --to gguf or --to safetensors)");
        }
        for (Node n : model.graph().nodes()) {
            String d = n.domain() == null ? "" : n.domain();
            if (!d.isEmpty() && !d.equals("ai.onnx") && !model.opsets().containsKey(d)) {
                throw new UnsupportedModelException(model.source() + ": node " + n.label() + " uses op " + d + "." + n.opType()
                        + ", which has no ONNX opset import");
            }
        }
    }

    /** Float weights in the graph's layout: [N][K] rows, transposed back when the graph stores [K][N]. */
    static float[] decodeAsStored(String name, EncodedTensor w) {
        if (!(w instanceof IntGroupedWeight q) || q.inputScale() == null) return WeightDecoders.decodeAsStored(name, w);
        // SmoothQuant's explicit per-input-channel multiplier folds into the weight columns.
        float[] rows = WeightDecoders.decode(name, w);
        float[] s = q.inputScale().toFloatArray();
        int n = Math.toIntExact(q.rows()), k = Math.toIntExact(q.cols());
        for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) rows[r * k + c] *= s[c];
        if (q.kAxis() != 0) return rows;
        float[] out = new float[rows.length];
        for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) out[c * n + r] = rows[r * k + c];
        return out;
    }

    /** Integer codes [N·groups][group] (int8 or uint8), scales [N·groups], optional uint8 zero points. */
    record Blocks(Tensor codes, Tensor scales, Tensor zeroPoints, int group, String obstacle) {
        static Blocks no(String why) { return new Blocks(null, null, null, 0, why); }
    }

    static Blocks intBlocks(IntGroupedWeight q) {
        return intBlocks(q, false);
    }

    /** {@code activationsHandled}: the caller writes the input scale and activation quantization as graph nodes. */
    static Blocks intBlocks(IntGroupedWeight q, boolean activationsHandled) {
        if (q.shape().length != 2) return Blocks.no("not a matrix");
        if (!activationsHandled && actsQuantized(q)) return Blocks.no("activation scaling or quantization is not written in this form");
        if (q.bits() != 8 && q.bits() != 4) return Blocks.no(q.bits() + "-bit codes have no int8 DequantizeLinear form here");
        int n = Math.toIntExact(q.rows()), k = Math.toIntExact(q.cols());
        int group = Math.min(q.groupSize(), k);
        if (k % group != 0) return Blocks.no("group " + q.groupSize() + " does not divide K=" + k);
        int groups = k / group, rowBytes = q.rowBytes();
        byte[] codes = new byte[n * k];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                int v;
                if (q.bits() == 8) {
                    v = q.codes().get(r * rowBytes + c);
                } else {
                    int b = q.codes().get(r * rowBytes + c / 2) & 0xFF;
                    v = (c & 1) == 0 ? b & 0x0F : b >>> 4;
                    if (q.symmetric()) v -= 8;
                }
                codes[r * k + c] = (byte) v;
            }
        }
        DType dt = q.symmetric() ? DType.I8 : DType.U8;
        Tensor zp = null;
        if (!q.symmetric()) {
            byte[] z = new byte[n * groups];
            q.zeroPoints().data().get(z);
            zp = Tensor.ofBytes(DType.U8, z, (long) n * groups);
        }
        Tensor scales = Tensor.ofFloats(q.scales().toFloatArray(), (long) n * groups);
        return new Blocks(Tensor.ofBytes(dt, codes, (long) n * groups, group), scales, zp, group, null);
    }

    /**
     * MX blocks as int8 codes × power-of-two scales (formats.md §4.4): element = c · 2^-s with c an integer
     * that fits int8 (MXINT8 s=6, MXFP4 s=1, MXFP6-E2M3 s=3, MXINT6 s=4, MXINT4 s=2), scale 2^(e−127−s).
     * Each code is checked to be exactly integral, so the mapping is exact or not used at all.
     */
    static Blocks mxBlocks(String name, MxWeight m) {
        int s = switch (m.format()) {
            case MXINT8 -> 6;
            case MXFP4_E2M1 -> 1;
            case MXFP6_E2M3 -> 3;
            case MXINT6 -> 4;
            case MXINT4 -> 2;
            default -> -1;
        };
        if (s < 0) {
            return Blocks.no(m.format() == MxFormat.MXFP6_E3M2 ? "MXFP6-E3M2 needs int16 codes (16·v up to 448)"
                    : m.format().cliName() + " needs blocked float8 DequantizeLinear (opset 21)");
        }
        if (m.shape().length != 2) return Blocks.no("not a matrix");
        int n = Math.toIntExact(m.rows()), k = Math.toIntExact(m.cols()), bs = m.blockSize();
        if (k % bs != 0) return Blocks.no("block " + bs + " does not divide K=" + k);
        float[] v = WeightDecoders.decode(name, m);
        if (v.length != n * k) return Blocks.no("decoded size does not match the shape");
        int blocks = k / bs;
        byte[] codes = new byte[n * k];
        float[] scales = new float[n * blocks];
        for (int r = 0; r < n; r++) {
            for (int b = 0; b < blocks; b++) {
                int e = m.scales().get(r * (int) m.blocksPerRow() + b) & 0xFF;
                if (e == 0xFF) return Blocks.no("a block has the NaN scale");
                scales[r * blocks + b] = Math.scalb(1f, e - 127 - s);
                for (int i = 0; i < bs; i++) {
                    int idx = r * k + b * bs + i;
                    double c = Math.scalb((double) v[idx], 127 + s - e);
                    if (c != Math.rint(c) || c < -128 || c > 127) return Blocks.no("a code is not an exact int8 multiple of its block scale");
                    codes[idx] = (byte) c;
                }
            }
        }
        return new Blocks(Tensor.ofBytes(DType.I8, codes, (long) n * blocks, bs), Tensor.ofFloats(scales, (long) n * blocks), null, bs, null);
    }

    /** How a weight written by {@link #dequantChain} reads in the report. */
    private static String dequantForm(EncodedTensor w, Blocks b) {
        long k = EncodedTensor.cols(w.shape(), kAxis(w));
        return "DequantizeLinear(" + b.codes.dtype().displayName() + (b.group == k ? ", per channel)" : ", block " + b.group + ")");
    }

    /** The weight scales or quantizes the activations entering it (SmoothQuant's input scale, W8A8). */
    static boolean actsQuantized(IntGroupedWeight q) {
        return q.inputScale() != null || q.activationBits() > 0;
    }

    /** Null when every consumer is a linear reading the weight as its right operand (the activation is input 0). */
    static String activationObstacle(IntGroupedWeight q, String name, List<Node> users) {
        if (q.shape().length != 2) return "not a matrix";
        if (users.isEmpty()) return "no node reads it";
        for (Node u : users) {
            boolean linear = isDefault(u.domain()) && (u.opType().equals("MatMul") || u.opType().equals("Gemm") && u.intAttr("transA", 0) == 0);
            if (!linear || u.inputs().size() < 2 || !u.inputs().get(1).equals(name) || u.inputs().get(0).equals(name)) {
                return "its activation side needs a MatMul/Gemm reading it as the weight, " + u.label() + " does not";
            }
        }
        return null;
    }

    private static String activationForm(IntGroupedWeight q) {
        String s = q.inputScale() != null ? " × input scale" : "";
        if (q.activationBits() == 0) return s;
        return s + " with int" + q.activationBits() + " activations (" + (q.activationScale() > 0 ? "static per tensor" : "dynamic per token") + ")";
    }

    /**
     * The activation side of a W8A8 (or input-scaled) linear as ONNX nodes, the arithmetic of tamp's kernel:
     * x·s (input scale), then Δ = max|x_row| / qmax per token (or the static Δ), x̂ = clip(round(x/Δ), ±qmax)·Δ with
     * Round halving to even. ONNX Runtime then multiplies x̂ by the dequantized weight in float, as tamp does, so the
     * export agrees with {@code tamp run} up to summation order. Returns the name of x̂.
     */
    static String activationChain(String name, IntGroupedWeight q, String x, long opset, Map<String, EncodedTensor> weights, List<Node> nodes) {
        String p = name + "_act";
        String cur = x;
        if (q.inputScale() != null) {
            weights.put(p + "_input_scale", new DenseWeight(Tensor.ofFloats(q.inputScale().toFloatArray(), q.inputScale().shape())));
            nodes.add(new Node(p + "_InputScale", "Mul", "", List.of(cur, p + "_input_scale"), List.of(p + "_scaled"), Map.of()));
            cur = p + "_scaled";
        }
        if (q.activationBits() == 0) return cur;
        int qmax = (1 << (q.activationBits() - 1)) - 1;
        String delta;
        if (q.activationScale() > 0) {
            delta = p + "_delta";
            weights.put(delta, new DenseWeight(Tensor.ofFloats(new float[] {q.activationScale()})));
        } else {
            nodes.add(new Node(p + "_Abs", "Abs", "", List.of(cur), List.of(p + "_abs"), Map.of()));
            List<String> rin = new ArrayList<>(List.of(p + "_abs"));
            Map<String, Attribute> rattr = new LinkedHashMap<>();
            rattr.put("keepdims", new Attribute.Int(1));
            if (opset >= 18) {
                weights.put(p + "_axes", new DenseWeight(Tensor.ofLongs(new long[] {-1}, 1)));
                rin.add(p + "_axes");
            } else {
                rattr.put("axes", new Attribute.Ints(new long[] {-1}));
            }
            nodes.add(new Node(p + "_ReduceMax", "ReduceMax", "", rin, List.of(p + "_amax"), rattr));
            weights.put(p + "_qmax", new DenseWeight(Tensor.ofFloats(new float[] {qmax})));
            nodes.add(new Node(p + "_Step", "Div", "", List.of(p + "_amax", p + "_qmax"), List.of(p + "_step"), Map.of()));
            // an all-zero row: any positive Δ quantizes it to zeros (tamp uses 1); the floor keeps 0/0 out
            weights.put(p + "_min_delta", new DenseWeight(Tensor.ofFloats(new float[] {Float.MIN_NORMAL})));
            nodes.add(new Node(p + "_Delta", "Max", "", List.of(p + "_step", p + "_min_delta"), List.of(p + "_delta"), Map.of()));
            delta = p + "_delta";
        }
        weights.put(p + "_lo", new DenseWeight(Tensor.ofFloats(new float[] {-qmax})));
        weights.put(p + "_hi", new DenseWeight(Tensor.ofFloats(new float[] {qmax})));
        nodes.add(new Node(p + "_Div", "Div", "", List.of(cur, delta), List.of(p + "_ratio"), Map.of()));
        nodes.add(new Node(p + "_Round", "Round", "", List.of(p + "_ratio"), List.of(p + "_rounded"), Map.of()));
        nodes.add(new Node(p + "_Clip", "Clip", "", List.of(p + "_rounded", p + "_lo", p + "_hi"), List.of(p + "_codes"), Map.of()));
        nodes.add(new Node(p + "_Dequantize", "Mul", "", List.of(p + "_codes", delta), List.of(p + "_quantized"), Map.of()));
        return p + "_quantized";
    }

    /** DequantizeLinear(axis 0) → Reshape [N][K] → Transpose when the graph stores [K][N]; the last output keeps the weight's name. */
    private static void dequantChain(String name, EncodedTensor w, Blocks b, Map<String, EncodedTensor> weights, List<Node> nodes) {
        long n = EncodedTensor.rows(w.shape(), kAxis(w)), k = EncodedTensor.cols(w.shape(), kAxis(w));
        boolean transpose = kAxis(w) == 0;
        boolean reshape = b.codes.shape()[0] != n;
        List<String> in = new ArrayList<>(List.of(name + "_quantized", name + "_scale"));
        weights.put(name + "_quantized", new DenseWeight(b.codes));
        weights.put(name + "_scale", new DenseWeight(b.scales));
        if (b.zeroPoints != null) {
            weights.put(name + "_zero_point", new DenseWeight(b.zeroPoints));
            in.add(name + "_zero_point");
        }
        String dqOut = reshape || transpose ? name + "_dequantized" : name;
        nodes.add(new Node(name + "_DequantizeLinear", "DequantizeLinear", "", in, List.of(dqOut), Map.of("axis", new Attribute.Int(0))));
        String cur = dqOut;
        if (reshape) {
            weights.put(name + "_shape", new DenseWeight(Tensor.ofLongs(new long[] {n, k}, 2)));
            String o = transpose ? name + "_rows" : name;
            nodes.add(new Node(name + "_Reshape", "Reshape", "", List.of(cur, name + "_shape"), List.of(o), Map.of()));
            cur = o;
        }
        if (transpose) {
            nodes.add(new Node(name + "_Transpose", "Transpose", "", List.of(cur), List.of(name), Map.of("perm", new Attribute.Ints(new long[] {1, 0}))));
        }
    }

    private static int kAxis(EncodedTensor w) {
        if (w instanceof IntGroupedWeight q) return q.kAxis();
        if (w instanceof MxWeight m) return m.kAxis();
        return 1;
    }

    /** Null when the weight can become MatMulNBits' B, else why not. */
    static String nbitsObstacle(IntGroupedWeight q, String name, List<Node> users) {
        if (q.bits() != 4) return q.bits() + "-bit codes";
        if (q.inputScale() != null || q.activationBits() > 0 || q.activationScale() > 0) return "activation scaling or quantization";
        if (q.shape().length != 2 || q.kAxis() != 0) return "not a MatMul [K][N] weight";
        if (users.size() != 1 || !users.get(0).opType().equals("MatMul") || !isDefault(users.get(0).domain())
                || users.get(0).inputs().size() != 2 || !users.get(0).inputs().get(1).equals(name)) {
            return "not the B input of exactly one MatMul";
        }
        int g = q.groupSize(), k = Math.toIntExact(q.cols());
        if (g < 16 || Integer.bitCount(g) != 1) return "MatMulNBits needs a power-of-two block of at least 16, the group is " + g;
        if (k % g != 0) return "group " + g + " does not divide K=" + k;
        return null;
    }

    private static boolean isDefault(String domain) {
        return domain == null || domain.isEmpty() || domain.equals("ai.onnx");
    }

    private static Node matMulNBits(String name, IntGroupedWeight q, Node mm, Map<String, EncodedTensor> weights) {
        int n = Math.toIntExact(q.rows()), k = Math.toIntExact(q.cols()), g = q.groupSize(), blocks = k / g;
        byte[] b = new byte[n * k / 2];
        q.codes().duplicate().position(0).get(b);
        weights.put(name + "_B", new DenseWeight(Tensor.ofBytes(DType.U8, b, n, blocks, g / 2)));
        weights.put(name + "_scales", new DenseWeight(Tensor.ofFloats(q.scales().toFloatArray(), (long) n * blocks)));
        List<String> in = new ArrayList<>(List.of(mm.inputs().get(0), name + "_B", name + "_scales"));
        if (!q.symmetric()) {
            int per = (blocks + 1) / 2;
            byte[] z = new byte[n * blocks], packed = new byte[n * per];
            q.zeroPoints().data().get(z);
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < blocks; j++) packed[r * per + j / 2] |= (byte) ((z[r * blocks + j] & 0x0F) << ((j & 1) * 4));
            }
            weights.put(name + "_zero_points", new DenseWeight(Tensor.ofBytes(DType.U8, packed, (long) n * per)));
            in.add(name + "_zero_points");
        }
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("K", new Attribute.Int(k));
        attrs.put("N", new Attribute.Int(n));
        attrs.put("bits", new Attribute.Int(4));
        attrs.put("block_size", new Attribute.Int(g));
        return new Node(mm.name(), "MatMulNBits", MS_DOMAIN, in, mm.outputs(), attrs);
    }

    private static String join(String a, String b) {
        if (a == null) return b;
        return b == null ? a : a + "; " + b;
    }
}

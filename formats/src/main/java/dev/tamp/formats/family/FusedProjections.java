package dev.tamp.formats.family;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.TensorRegion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Phi-3 stores each block's query/key/value projections as one {@code qkv_proj} and its gate/up projections as one
 * {@code gate_up_proj} (rows stacked: q, k, v; gate, up). Split on read into the separate Llama-named projections,
 * every method, kernel and the graph builder treat Phi-3 as the Llama it then is; the exporters stack them again
 * for Phi-3 targets. Splitting a row-major [out][in] matrix by rows is a contiguous byte range, so the parts are
 * views of the mapped file (or sub-regions of it), never copies.
 */
public final class FusedProjections {
    private static final Pattern FUSED = Pattern.compile("(model\\.layers\\.\\d+\\.)(self_attn\\.qkv_proj|mlp\\.gate_up_proj)\\.weight");
    private static final Pattern PART = Pattern.compile("(model\\.layers\\.\\d+\\.)(self_attn\\.[qkv]_proj|mlp\\.(gate|up)_proj)\\.weight");

    /** One fused tensor's parts: the separate names and their row counts, in stacking order. */
    public record Parts(List<String> names, long[] rows) {}

    private FusedProjections() {}

    /** Whether this family stores fused projections. */
    public static boolean fused(ModelFamily family) {
        return family == ModelFamily.PHI3;
    }

    /** The separate projections a fused weight name stands for, or null if the name is not a fused projection. */
    public static Parts parts(String fusedName, Map<String, Object> config) {
        Matcher m = FUSED.matcher(fusedName);
        if (!m.matches()) return null;
        String p = m.group(1);
        if (m.group(2).startsWith("self_attn")) {
            long heads = number(config, "num_attention_heads"), kv = config.containsKey("num_key_value_heads") ? number(config, "num_key_value_heads") : heads;
            long hd = config.containsKey("head_dim") ? number(config, "head_dim") : number(config, "hidden_size") / heads;
            return new Parts(List.of(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"),
                    new long[] {heads * hd, kv * hd, kv * hd});
        }
        long inter = number(config, "intermediate_size");
        return new Parts(List.of(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"), new long[] {inter, inter});
    }

    /** The fused name the separate projection {@code name} belongs to (for exporters), or null. */
    public static String fusedNameOf(String name) {
        Matcher m = PART.matcher(name);
        if (!m.matches()) return null;
        return m.group(1) + (m.group(2).startsWith("self_attn") ? "self_attn.qkv_proj" : "mlp.gate_up_proj") + ".weight";
    }

    /** The weights with every fused projection replaced by its parts (row views of the same bytes), in place of it. */
    public static Map<String, EncodedTensor> split(String source, Map<String, EncodedTensor> weights, Map<String, Object> config) {
        Map<String, EncodedTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, EncodedTensor> e : weights.entrySet()) {
            Parts parts = parts(e.getKey(), config);
            if (parts == null) {
                out.put(e.getKey(), e.getValue());
                continue;
            }
            if (!(e.getValue() instanceof DenseWeight d) || d.tensor().rank() != 2) {
                throw new BadInputException(source + ": fused projection " + e.getKey() + " is not a dense matrix");
            }
            Tensor t = d.tensor();
            long rowBytes = t.byteSize() / t.dim(0);
            checkRows(source, e.getKey(), t.dim(0), parts);
            long row = 0;
            for (int i = 0; i < parts.names().size(); i++) {
                ByteBuffer slice = t.data().slice(Math.toIntExact(row * rowBytes), Math.toIntExact(parts.rows()[i] * rowBytes)).order(ByteOrder.LITTLE_ENDIAN);
                out.put(parts.names().get(i), new DenseWeight(Tensor.of(t.dtype(), new long[] {parts.rows()[i], t.dim(1)}, slice)));
                row += parts.rows()[i];
            }
        }
        return out;
    }

    /** The same split for the tensors' file regions (streamed conversion reads them one at a time). */
    public static Map<String, TensorRegion> splitRegions(String source, Map<String, TensorRegion> regions, Map<String, Object> config) {
        Map<String, TensorRegion> out = new LinkedHashMap<>();
        for (Map.Entry<String, TensorRegion> e : regions.entrySet()) {
            Parts parts = parts(e.getKey(), config);
            TensorRegion r = e.getValue();
            if (parts == null) {
                out.put(e.getKey(), r);
                continue;
            }
            checkRows(source, e.getKey(), r.shape()[0], parts);
            long rowBytes = r.length() / r.shape()[0], row = 0;
            for (int i = 0; i < parts.names().size(); i++) {
                out.put(parts.names().get(i), new TensorRegion(r.file(), r.offset() + row * rowBytes, parts.rows()[i] * rowBytes, r.dtype(),
                        new long[] {parts.rows()[i], r.shape()[1]}));
                row += parts.rows()[i];
            }
        }
        return out;
    }

    private static void checkRows(String source, String name, long rows, Parts parts) {
        long want = 0;
        for (long r : parts.rows()) want += r;
        if (rows != want) throw new BadInputException(source + ": fused projection " + name + " has " + rows + " rows, the config implies " + want);
    }

    private static long number(Map<String, Object> c, String key) {
        if (c.get(key) instanceof Number n) return n.longValue();
        throw new BadInputException("config has no '" + key + "' (needed to split fused projections)");
    }
}

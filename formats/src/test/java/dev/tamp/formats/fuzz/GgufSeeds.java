package dev.tamp.formats.fuzz;

import dev.tamp.core.tensor.Half;
import dev.tamp.formats.fuzz.Mutations.Le;
import dev.tamp.formats.fuzz.Mutations.Mutant;
import dev.tamp.formats.fuzz.Mutations.Mutator;
import dev.tamp.formats.gguf.GgmlBlocks;
import java.util.ArrayList;
import java.util.List;

/**
 * Small GGUF files built byte by byte (independent of GgufWriter), v2 and v3, with metadata of several
 * types (nested arrays included) and F32, F16, BF16, Q8_0 and Q4_0 tensors; every count, length, dimension,
 * type and offset field is recorded for mutation.
 */
final class GgufSeeds {
    private GgufSeeds() {}

    private record T(String name, long[] ggufDims, int type, byte[] data) {}

    static List<FuzzSeed> seeds() {
        List<FuzzSeed> out = new ArrayList<>();
        for (int version : new int[] {2, 3}) {
            Le le = build(version, false);
            List<Mutator> m = new ArrayList<>();
            m.add(Mutations.fields(le.fields));
            m.add((s, r) -> new Mutant(build(version, true).bytes(), "two tensors named alike"));
            Le weird = build(version, false, "blk.0\n.attn_q\u0000.weight");
            Mutator weirdFields = Mutations.fields(weird.fields);
            m.add((s, r) -> {
                Mutant x = weirdFields.apply(weird.bytes(), r);
                return new Mutant(x.bytes(), "control characters in a tensor name, " + x.what());
            });
            out.add(FuzzSeed.single("gguf-v" + version, "seed.gguf", le.bytes(), m));
        }
        return out;
    }

    private static List<T> tensors() {
        float[] x = new float[64];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(0.37 * i);
        java.nio.ByteBuffer f32 = java.nio.ByteBuffer.allocate(4 * 4 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 32; i++) f32.putFloat(x[i]);
        java.nio.ByteBuffer f16 = java.nio.ByteBuffer.allocate(2 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 8; i++) f16.putShort(Half.floatToF16(x[i]));
        java.nio.ByteBuffer bf16 = java.nio.ByteBuffer.allocate(2 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 8; i++) bf16.putShort(Half.floatToBf16(x[i]));
        return List.of(
                new T("token_embd.weight", new long[] {8, 4}, 0, f32.array()),
                new T("blk.0.attn_q.weight", new long[] {32, 2}, 8, GgmlBlocks.quantizeQ8_0(x)),
                new T("blk.0.attn_k.weight", new long[] {32, 2}, 2, GgmlBlocks.quantizeQ4_0(x)),
                new T("output_norm.weight", new long[] {8}, 1, f16.array()),
                new T("blk.0.ffn_norm.weight", new long[] {8}, 30, bf16.array()));
    }

    static Le build(int version, boolean duplicateName) {
        return build(version, duplicateName, null);
    }

    static Le build(int version, boolean duplicateName, String secondName) {
        List<T> ts = new ArrayList<>(tensors());
        if (secondName != null) ts.set(1, new T(secondName, ts.get(1).ggufDims(), ts.get(1).type(), ts.get(1).data()));
        Le f = new Le();
        f.i32(0x46554747).field("version", 4, version).field("tensor_count", 8, ts.size()).field("kv_count", 8, 7);
        f.str("key0", "general.architecture").field("type0", 4, 8).str("value0", "llama");
        f.str("key1", "general.alignment").field("type1", 4, 4).field("alignment", 4, 32);
        f.str("key2", "llama.block_count").field("type2", 4, 4).field("block_count", 4, 1);
        f.str("key3", "llama.embedding_length").field("type3", 4, 4).i32(8);
        f.str("key4", "tokenizer.ggml.tokens").field("type4", 4, 9).field("array4.type", 4, 8).field("array4.count", 8, 3);
        f.str("tok0", "a").str("tok1", "b").str("tok2", "\u00fc");
        f.str("key5", "k.nested").field("type5", 4, 9).field("array5.type", 4, 9).field("array5.count", 8, 2);
        f.field("inner0.type", 4, 5).field("inner0.count", 8, 2).i32(1).i32(2);
        f.field("inner1.type", 4, 7).field("inner1.count", 8, 1).u8(1);
        f.str("key6", "k.f64").field("type6", 4, 12).i64(Double.doubleToLongBits(0.5));
        long offset = 0;
        for (int i = 0; i < ts.size(); i++) {
            T t = ts.get(i);
            f.str("tensor" + i + ".name", duplicateName && i == 3 ? ts.get(0).name() : t.name());
            f.field("tensor" + i + ".n_dims", 4, t.ggufDims().length);
            for (int d = 0; d < t.ggufDims().length; d++) f.field("tensor" + i + ".dim" + d, 8, t.ggufDims()[d]);
            f.field("tensor" + i + ".type", 4, t.type());
            f.field("tensor" + i + ".offset", 8, offset);
            offset = (offset + t.data().length + 31) / 32 * 32;
        }
        f.padTo(32);
        for (T t : ts) f.raw(t.data()).padTo(32);
        return f;
    }
}

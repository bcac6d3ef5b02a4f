package dev.tamp.formats.fuzz;

import dev.tamp.formats.fuzz.Mutations.Field;
import dev.tamp.formats.fuzz.Mutations.Mutant;
import dev.tamp.formats.fuzz.Mutations.Mutator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * safetensors seeds built byte by byte: a single file (F32, I64, BF16 and an empty F16 tensor, with
 * __metadata__) and a sharded Hugging Face directory (config.json, index, two shards). Header mutations
 * rewrite the JSON and then fix the length prefix, so the lie reaches the validation behind the parser.
 */
final class SafetensorsSeeds {
    private SafetensorsSeeds() {}

    static final List<String> STRINGS = List.of("\"F32\"", "\"F8_E4M3\"", "\"I64\"", "\"BOOL\"", "\"U64\"", "\"F64\"",
            "\"__metadata__\"", "\"a\"", "\"b\"", "\"\"", "\"data_offsets\"", "\"shape\"", "\"dtype\"", "\"weight_map\"",
            "\"model-00001-of-00002.safetensors\"", "\"../outside.safetensors\"", "\"/etc/passwd\"", "\"model.safetensors\"",
            "\"a\\nb\"", "\"x\\u0000\\ry\"");

    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array();
    }

    private static byte[] data(int n) {
        byte[] d = new byte[n];
        for (int i = 0; i < n; i++) d[i] = (byte) (31 * i + 7);
        return d;
    }

    /** Rewrites a JSON literal of the header and re-frames the file with the new header length. */
    static Mutator header() {
        return (s, r) -> {
            long len = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            String json = new String(s, 8, (int) len, StandardCharsets.UTF_8);
            StringBuilder what = new StringBuilder("header ");
            String m = Mutations.mutateJson(json, r, STRINGS, what);
            return new Mutant(file(m, Arrays.copyOfRange(s, 8 + (int) len, s.length)), what.toString());
        };
    }

    /** Rewrites a JSON literal of a text file (config.json, the index). */
    static Mutator json() {
        return (s, r) -> {
            StringBuilder what = new StringBuilder("json ");
            String m = Mutations.mutateJson(new String(s, StandardCharsets.UTF_8), r, STRINGS, what);
            return new Mutant(m.getBytes(StandardCharsets.UTF_8), what.toString());
        };
    }

    static List<FuzzSeed> seeds() {
        List<FuzzSeed> out = new ArrayList<>();
        String h = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[40,42]},"
                + "\"z\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[42,42]}}";
        byte[] single = file(h, data(42));
        List<Mutator> m = new ArrayList<>(List.of(header(), header(), Mutations.fields(List.of(new Field("header_len", 0, 8))),
                (s, r) -> new Mutant(file(h.replace("}}", "},\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}"),
                        data(42)), "duplicate tensor key")));
        out.add(FuzzSeed.single("safetensors-file", "seed.safetensors", single, m));

        Map<String, byte[]> dir = new LinkedHashMap<>();
        dir.put("config.json", "{\"model_type\":\"llama\",\"hidden_size\":4,\"architectures\":[\"LlamaForCausalLM\"]}"
                .getBytes(StandardCharsets.UTF_8));
        dir.put("model.safetensors.index.json", ("{\"metadata\":{\"total_size\":40},\"weight_map\":{"
                + "\"w1\":\"model-00001-of-00002.safetensors\",\"w2\":\"model-00002-of-00002.safetensors\","
                + "\"w3\":\"model-00002-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8));
        dir.put("model-00001-of-00002.safetensors", file("{\"w1\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", data(16)));
        dir.put("model-00002-of-00002.safetensors", file("{\"w2\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"w3\":{\"dtype\":\"I8\",\"shape\":[2,8],\"data_offsets\":[8,24]}}", data(24)));
        dir.put("tokenizer.json", "{\"model\":{}}".getBytes(StandardCharsets.UTF_8));
        Map<String, List<Mutator>> dm = new LinkedHashMap<>();
        dm.put("config.json", List.of(json()));
        dm.put("model.safetensors.index.json", List.of(json(), json()));
        dm.put("model-00001-of-00002.safetensors", List.of(header(), Mutations.fields(List.of(new Field("header_len", 0, 8)))));
        dm.put("model-00002-of-00002.safetensors", List.of(header(), (s, r) -> new Mutant(
                file("{\"w2\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                        + "\"w1\":{\"dtype\":\"I8\",\"shape\":[2,8],\"data_offsets\":[8,24]}}", data(24)), "tensor in two shards")));
        out.add(new FuzzSeed("safetensors-sharded-dir", dir, ".", dm));
        return out;
    }
}

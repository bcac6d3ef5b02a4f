package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.function.ToIntFunction;

/**
 * What the tokenizer.json's {@code post_processor} does to a single sequence: special tokens before and after
 * it (with their type ids) and the type id of the sequence's own tokens.
 */
record SingleTemplate(int[] prefixIds, int[] prefixTypes, int[] suffixIds, int[] suffixTypes, int sequenceType) {
    static final SingleTemplate NONE = new SingleTemplate(new int[0], new int[0], new int[0], new int[0], 0);

    int added() { return prefixIds.length + suffixIds.length; }

    static SingleTemplate fromJson(JsonNode n, ToIntFunction<String> idOf) {
        if (n == null || n.isNull() || n.isMissingNode()) return NONE;
        String type = n.path("type").asText("");
        return switch (type) {
            case "TemplateProcessing" -> template(n, idOf);
            case "BertProcessing", "RobertaProcessing" -> {
                // [CLS] A [SEP] (Roberta: <s> A </s>); both given as [token, id].
                int cls = n.path("cls").path(1).asInt(-1), sep = n.path("sep").path(1).asInt(-1);
                if (cls < 0 || sep < 0) throw new BadInputException("tokenizer.json " + type + " has no cls/sep [token, id] pairs");
                yield new SingleTemplate(new int[] {cls}, new int[] {0}, new int[] {sep}, new int[] {0}, 0);
            }
            case "ByteLevel" -> NONE; // only trims offsets
            case "Sequence" -> {
                SingleTemplate acc = NONE;
                for (JsonNode c : n.path("processors")) acc = acc.then(fromJson(c, idOf));
                yield acc;
            }
            default -> throw new UnsupportedModelException("tokenizer.json post-processor '" + type + "' is not supported"
                    + " (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");
        };
    }

    private static SingleTemplate template(JsonNode n, ToIntFunction<String> idOf) {
        IntList pre = new IntList(), preT = new IntList(), suf = new IntList(), sufT = new IntList();
        boolean seen = false;
        int seqType = 0;
        for (JsonNode piece : n.path("single")) {
            if (piece.has("Sequence")) {
                if (seen) throw new UnsupportedModelException("tokenizer.json TemplateProcessing repeats the sequence in its single template");
                seen = true;
                seqType = piece.get("Sequence").path("type_id").asInt(0);
            } else if (piece.has("SpecialToken")) {
                String name = piece.get("SpecialToken").path("id").asText();
                int typeId = piece.get("SpecialToken").path("type_id").asInt(0);
                JsonNode ids = n.path("special_tokens").path(name).path("ids");
                if (ids.isMissingNode()) {
                    int id = idOf.applyAsInt(name);
                    if (id < 0) throw new BadInputException("tokenizer.json TemplateProcessing names special token '" + name + "' it does not define");
                    (seen ? suf : pre).add(id);
                    (seen ? sufT : preT).add(typeId);
                } else {
                    for (JsonNode id : ids) {
                        (seen ? suf : pre).add(id.asInt());
                        (seen ? sufT : preT).add(typeId);
                    }
                }
            }
        }
        return new SingleTemplate(pre.toArray(), preT.toArray(), suf.toArray(), sufT.toArray(), seqType);
    }

    /** This template applied, then {@code next} around the result. */
    private SingleTemplate then(SingleTemplate next) {
        if (this.added() == 0 && this.sequenceType == 0) return next;
        if (next.added() == 0 && next.sequenceType == 0) return this;
        throw new UnsupportedModelException("tokenizer.json post-processor Sequence with two processors that add tokens is not supported");
    }
}

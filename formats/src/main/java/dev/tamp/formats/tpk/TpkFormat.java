package dev.tamp.formats.tpk;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.tensor.DType;
import java.nio.charset.StandardCharsets;

/**
 * Constants of the .tpk container (formats.md §6.2). Tags marked [OURS] extend the spec's tables in a
 * minor-version-compatible way: dense dtypes beyond F32/F16/BF16/I8 (ONNX models carry int64 shape
 * constants and such), 8-bit asymmetric int groups, and container tags for composite encodings whose parts
 * are stored as companion entries.
 */
final class TpkFormat {
    static final byte[] MAGIC = "TAMPPACK".getBytes(StandardCharsets.US_ASCII);
    static final byte[] END_MAGIC = "TPKEND\0\0".getBytes(StandardCharsets.US_ASCII);
    static final int MAJOR = 1;
    static final int MINOR = 1; // 1.1: the [OURS] tags below
    static final int HEADER_BYTES = 128;
    static final int ENTRY_BYTES = 128;
    static final int ALIGN = 64;
    static final int PAGE = 4096;
    static final long PAGE_ALIGN_MIN = 1 << 20;
    static final int FOOTER_BYTES = 40;

    static final int FLAG_FOOTER_SHA256 = 1;
    static final int FLAG_PAGE_ALIGN = 2;
    static final int MUST_UNDERSTAND_MASK = 0xFFFF0000;

    static final int ENTRY_SPARSE24 = 1;
    static final int ENTRY_DERIVED = 2;
    static final int ENTRY_PADDED = 4;

    static final int SCALE_NONE = 0, SCALE_E8M0 = 1, SCALE_F32 = 3;
    static final int AUX_NONE = 0, AUX_SPARSE24 = 2, AUX_U8_ZERO_POINTS = 4; // 4 [OURS]: unpacked uint8 zero points

    // Dense formats (spec: 1..4; [OURS] 5..13)
    static int denseTag(DType t) {
        return switch (t) {
            case F32 -> 0x0001;
            case F16 -> 0x0002;
            case BF16 -> 0x0003;
            case I8 -> 0x0004;
            case U8 -> 0x0005;
            case I32 -> 0x0006;
            case I64 -> 0x0007;
            case F64 -> 0x0008;
            case BOOL -> 0x0009;
            case I16 -> 0x000A;
            case U16 -> 0x000B;
            case U32 -> 0x000C;
            case U64 -> 0x000D;
        };
    }

    static DType denseType(int tag) {
        for (DType t : DType.values()) if (denseTag(t) == tag) return t;
        return null;
    }

    // Integer groups: spec 0x0200 INT4_SYM_G, 0x0201 INT4_ASYM_G, 0x0202 INT8_SYM_CH; [OURS] 0x0203 INT8_ASYM_G.
    // Group size is the entry's block_size (== K for per-channel), so INT8_SYM_CH also covers grouped int8.
    static final int INT4_SYM = 0x0200, INT4_ASYM = 0x0201, INT8_SYM = 0x0202, INT8_ASYM = 0x0203;

    // [OURS] composite encodings: the entry holds only the description; parts are companion entries.
    static final int LOW_RANK = 0x0400, DICTIONARY = 0x0401, SPARSE = 0x0500;

    static boolean isMx(int tag) {
        return MxFormat.fromTag(tag) != null;
    }

    private TpkFormat() {}
}

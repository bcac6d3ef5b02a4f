package dev.tamp.formats.codec;

import dev.tamp.core.encoding.MxFormat;
import java.util.EnumMap;
import java.util.Map;

/** The element codec of each MX format. */
public final class ElementCodecs {
    private static final Map<MxFormat, ElementCodec> CODECS = new EnumMap<>(MxFormat.class);

    static {
        CODECS.put(MxFormat.MXFP8_E4M3, new MiniFloatCodec(4, 3, MiniFloatCodec.Special.E4M3_NAN));
        CODECS.put(MxFormat.MXFP8_E5M2, new MiniFloatCodec(5, 2, MiniFloatCodec.Special.IEEE));
        CODECS.put(MxFormat.MXFP6_E3M2, new MiniFloatCodec(3, 2, MiniFloatCodec.Special.NONE));
        CODECS.put(MxFormat.MXFP6_E2M3, new MiniFloatCodec(2, 3, MiniFloatCodec.Special.NONE));
        CODECS.put(MxFormat.MXFP4_E2M1, new MiniFloatCodec(2, 1, MiniFloatCodec.Special.NONE));
        CODECS.put(MxFormat.MXINT8, new MxIntCodec(8));
        CODECS.put(MxFormat.MXINT6, new MxIntCodec(6));
        CODECS.put(MxFormat.MXINT4, new MxIntCodec(4));
    }

    private ElementCodecs() {}

    public static ElementCodec of(MxFormat f) {
        return CODECS.get(f);
    }
}

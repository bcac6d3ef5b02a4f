package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.formats.codec.PackLayouts;

/**
 * Kernel choice by layout (tamp pack): a weight laid out for this host's vector width runs on
 * {@link SplitLayoutKernel}; GENERIC weights and every other device layout (another CPU's split span, CUDA rows)
 * run through the portable path — the exact inverse to GENERIC (once, when the kernel is prepared) and the GENERIC
 * kernel — so a NEON or CUDA pack computes bit-exactly what its GENERIC source computes.
 */
public final class PackedKernels {
    private PackedKernels() {}

    /** The layout the fast kernel reads on this host (SPLIT16/32/64), or null when there is none. */
    public static Layout hostLayout() {
        return SplitLayoutKernel.hostLayout();
    }

    static LinearKernel of(IntGroupedWeight w) {
        if (w.layout() == Layout.GENERIC) return TiledDecodeKernel.of(w);
        SplitLayoutKernel fast = SplitLayoutKernel.of(w);
        return fast != null ? fast : TiledDecodeKernel.of((IntGroupedWeight) PackLayouts.toGeneric(w));
    }

    static LinearKernel of(MxWeight w) {
        if (w.layout() == Layout.GENERIC) return TiledDecodeKernel.of(w);
        SplitLayoutKernel fast = SplitLayoutKernel.of(w);
        return fast != null ? fast : TiledDecodeKernel.of((MxWeight) PackLayouts.toGeneric(w));
    }

    /** A 2:4 weight with its index plane in the CPU canonical order (values keep their layout; they are decoded once). */
    static Sparse24Weight canonical(Sparse24Weight w) {
        if (w.layout() != Layout.CUDA_ROWS16) return w;
        return new Sparse24Weight(w.shape(), w.kAxis(), w.values(),
                PackLayouts.unpackPlane(w.indices(), Math.toIntExact(w.rows()), 8,
                        dev.tamp.formats.codec.Sparse24Codec.indexRowBytes(Math.toIntExact(w.cols())), w.layout()), Layout.GENERIC);
    }
}

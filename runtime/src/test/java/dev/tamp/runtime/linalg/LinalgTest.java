package dev.tamp.runtime.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tamp.runtime.linalg.Linalg.Backend;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinalgTest {
    private static final Backend[] BOTH = {Backend.LAPACK, Backend.JAVA};

    static Matrix gaussian(int rows, int cols, long seed) {
        Random r = new Random(seed);
        double[] d = new double[rows * cols];
        for (int i = 0; i < d.length; i++) d[i] = r.nextGaussian();
        return new Matrix(rows, cols, d);
    }

    /** XᵀX + δI: symmetric positive definite with a controllable condition. */
    static Matrix spd(int n, long seed) {
        Matrix x = gaussian(2 * n, n, seed);
        Matrix g = Linalg.multiply(x, true, x, false, Backend.JAVA);
        for (int i = 0; i < n; i++) g.set(i, i, g.get(i, i) + 1e-3);
        return g;
    }

    static double orthogonalityError(Matrix q, boolean columns) {
        Matrix gram = columns ? Linalg.multiply(q, true, q, false, Backend.JAVA) : Linalg.multiply(q, false, q, true, Backend.JAVA);
        return gram.minus(Matrix.identity(gram.rows())).maxAbs();
    }

    @Test void nativeLibraryLoads() {
        assertTrue(Linalg.nativeAvailable(), "OpenBLAS should load on linux-x86_64: " + NativeBlas.failure());
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        assertTrue(cache != null && !cache.startsWith(System.getProperty("user.home") + "/.javacpp"), "cache dir " + cache);
    }

    @Test void svdReconstructsAndIsOrthonormalOnBothPaths() {
        int[][] shapes = {{70, 50}, {50, 70}, {96, 96}, {1, 5}, {5, 1}};
        for (int[] sh : shapes) {
            Matrix a = gaussian(sh[0], sh[1], 7 + sh[0] * 31L + sh[1]);
            double[] previous = null;
            for (Backend b : BOTH) {
                Svd svd = Linalg.svd(a, b);
                int p = Math.min(sh[0], sh[1]);
                assertEquals(p, svd.s().length);
                Matrix us = svd.u().copy();
                for (int i = 0; i < us.rows(); i++) for (int j = 0; j < p; j++) us.set(i, j, us.get(i, j) * svd.s()[j]);
                Matrix rec = Linalg.multiply(us, false, svd.vt(), false, Backend.JAVA);
                double rel = rec.minus(a).frobeniusNorm() / a.frobeniusNorm();
                assertTrue(rel <= 1e-10, b + " " + sh[0] + "x" + sh[1] + " reconstruction " + rel);
                assertTrue(orthogonalityError(svd.u(), true) <= 1e-10, b + " U orthogonality " + orthogonalityError(svd.u(), true));
                assertTrue(orthogonalityError(svd.vt(), false) <= 1e-10, b + " V orthogonality " + orthogonalityError(svd.vt(), false));
                for (int i = 1; i < p; i++) assertTrue(svd.s()[i - 1] >= svd.s()[i], b + " singular values not descending");
                if (previous != null) assertArrayEquals(previous, svd.s(), 1e-10 * svd.s()[0], "paths disagree on singular values");
                previous = svd.s();
            }
        }
    }

    @Test void svdOfRankDeficientMatrix() {
        Matrix a = Linalg.multiply(gaussian(60, 3, 1), gaussian(3, 50, 2));
        for (Backend b : BOTH) {
            Svd svd = Linalg.svd(a, b);
            assertTrue(svd.s()[3] <= 1e-12 * svd.s()[0], b + " rank-3 matrix: s[3]/s[0] = " + svd.s()[3] / svd.s()[0]);
            assertTrue(orthogonalityError(svd.u(), true) <= 1e-10, b + " U not orthonormal on rank-deficient input");
        }
    }

    @Test void choleskyAgreesAndReconstructs() {
        Matrix g = spd(80, 3);
        Matrix previous = null;
        for (Backend b : BOTH) {
            Matrix l = Linalg.cholesky(g, b).orElseThrow();
            for (int i = 0; i < 80; i++) for (int j = i + 1; j < 80; j++) assertEquals(0.0, l.get(i, j), b + " upper not zero");
            Matrix rec = Linalg.multiply(l, false, l, true, Backend.JAVA);
            double rel = rec.minus(g).frobeniusNorm() / g.frobeniusNorm();
            assertTrue(rel <= 1e-10, b + " L Lᵀ vs G " + rel);
            if (previous != null) {
                double d = l.minus(previous).frobeniusNorm() / l.frobeniusNorm();
                assertTrue(d <= 1e-10, "paths disagree on L: " + d);
            }
            previous = l;
            Matrix inv = Linalg.inverseFromCholesky(l, b);
            double invErr = Linalg.multiply(inv, g).minus(Matrix.identity(80)).maxAbs();
            assertTrue(invErr <= 1e-8, b + " G⁻¹G - I max " + invErr);
        }
    }

    @Test void choleskyOfNonPositiveDefiniteReportsFailure() {
        Matrix singular = Linalg.multiply(gaussian(60, 5, 4), true, gaussian(60, 5, 4), false); // 5x5 fine
        Matrix rankDeficient = Linalg.multiply(gaussian(3, 60, 5), true, gaussian(3, 60, 5), false); // 60x60 rank 3
        Matrix indefinite = Matrix.identity(60);
        indefinite.set(30, 30, -1);
        Matrix nan = Matrix.identity(4);
        nan.set(2, 2, Double.NaN);
        for (Backend b : BOTH) {
            assertTrue(Linalg.cholesky(singular, b).isPresent(), b + " 5x5 Gram of 60 samples is PD");
            assertEquals(Optional.empty(), Linalg.cholesky(indefinite, b), b + " indefinite matrix");
            assertEquals(Optional.empty(), Linalg.cholesky(nan, b), b + " NaN matrix");
            assertEquals(Optional.empty(), Linalg.cholesky(Matrix.zeros(10, 10), b), b + " zero matrix");
            // A rank-3 Gram is PSD; rounding may leave a tiny positive pivot, but a factor, if any, must be finite.
            Linalg.cholesky(rankDeficient, b).ifPresent(l -> assertTrue(Linalg.allFinite(l), "non-finite factor"));
        }
    }

    @Test void eighAgreesAndReconstructs() {
        Matrix g = spd(90, 9);
        double[] previous = null;
        for (Backend b : BOTH) {
            Eigh e = Linalg.eigh(g, b);
            for (int i = 1; i < 90; i++) assertTrue(e.values()[i - 1] <= e.values()[i], b + " eigenvalues not ascending");
            Matrix vd = e.vectors().copy();
            for (int i = 0; i < 90; i++) for (int j = 0; j < 90; j++) vd.set(i, j, vd.get(i, j) * e.values()[j]);
            Matrix rec = Linalg.multiply(vd, false, e.vectors(), true, Backend.JAVA);
            double rel = rec.minus(g).frobeniusNorm() / g.frobeniusNorm();
            assertTrue(rel <= 1e-10, b + " V Λ Vᵀ vs G " + rel);
            assertTrue(orthogonalityError(e.vectors(), true) <= 1e-10, b + " eigenvectors not orthonormal");
            if (previous != null) assertArrayEquals(previous, e.values(), 1e-10 * e.values()[89], "paths disagree on eigenvalues");
            previous = e.values();
        }
        // Singular symmetric input is fine for eigh: zero eigenvalues.
        Matrix low = Linalg.multiply(gaussian(2, 50, 3), true, gaussian(2, 50, 3), false);
        for (Backend b : BOTH) {
            Eigh e = Linalg.eigh(low, b);
            assertTrue(Math.abs(e.values()[0]) <= 1e-10 * e.values()[49], b + " smallest eigenvalue of rank-2 PSD " + e.values()[0]);
        }
    }

    @Test void triangularSolvesAndProductsAgree() {
        Matrix l = Linalg.cholesky(spd(70, 11), Backend.JAVA).orElseThrow();
        Matrix bm = gaussian(70, 55, 12);
        for (boolean t : new boolean[] {false, true}) {
            Matrix xl = Linalg.solveLower(l, bm, t, Backend.LAPACK);
            Matrix xj = Linalg.solveLower(l, bm, t, Backend.JAVA);
            Matrix back = Linalg.multiply(l, t, xl, false, Backend.JAVA);
            assertTrue(back.minus(bm).frobeniusNorm() / bm.frobeniusNorm() <= 1e-10, "op(L)X = B residual (t=" + t + ")");
            assertTrue(xl.minus(xj).frobeniusNorm() / xj.frobeniusNorm() <= 1e-10, "paths disagree on solve (t=" + t + ")");
        }
        Matrix a = gaussian(64, 80, 13);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Matrix aa = ta ? a.transpose() : a;
                Matrix bb = tb ? gaussian(72, 80, 15) : gaussian(80, 72, 15);
                Matrix lp = Linalg.multiply(aa, ta, bb, tb, Backend.LAPACK);
                Matrix jp = Linalg.multiply(aa, ta, bb, tb, Backend.JAVA);
                assertEquals(64, lp.rows());
                assertEquals(72, lp.cols());
                assertTrue(lp.minus(jp).maxAbs() <= 1e-12 * 80 * 10, "dgemm paths disagree ta=" + ta + " tb=" + tb);
            }
        }
        float[] fa = new float[40 * 30], fb = new float[30 * 20], c1 = new float[40 * 20], c2 = new float[40 * 20];
        Random r = new Random(16);
        for (int i = 0; i < fa.length; i++) fa[i] = (float) r.nextGaussian();
        for (int i = 0; i < fb.length; i++) fb[i] = (float) r.nextGaussian();
        Linalg.sgemm(false, false, 40, 20, 30, 1f, fa, 30, fb, 20, 0f, c1, 20, Backend.LAPACK);
        Linalg.sgemm(false, false, 40, 20, 30, 1f, fa, 30, fb, 20, 0f, c2, 20, Backend.JAVA);
        for (int i = 0; i < c1.length; i++) assertEquals(c2[i], c1[i], 1e-4f, "sgemm paths disagree at " + i);
    }

    @Test void propertyForcesBackendAndNanIsRejected() {
        String old = System.getProperty("tamp.linalg");
        try {
            System.setProperty("tamp.linalg", "java");
            assertEquals(Backend.JAVA, Linalg.choose(4096));
            System.setProperty("tamp.linalg", "lapack");
            assertEquals(Backend.LAPACK, Linalg.choose(2));
            System.setProperty("tamp.linalg", "gpu");
            assertThrows(IllegalArgumentException.class, () -> Linalg.choose(10));
        } finally {
            if (old == null) System.clearProperty("tamp.linalg"); else System.setProperty("tamp.linalg", old);
        }
        assertEquals(Backend.JAVA, Linalg.choose(4));
        assertEquals(Backend.LAPACK, Linalg.choose(512));
        Matrix nan = gaussian(5, 5, 1);
        nan.set(1, 1, Double.NaN);
        for (Backend b : BOTH) {
            assertThrows(ArithmeticException.class, () -> Linalg.svd(nan, b));
            assertThrows(ArithmeticException.class, () -> Linalg.eigh(nan, b));
        }
    }
}

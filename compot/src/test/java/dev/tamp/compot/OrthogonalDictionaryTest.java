package dev.tamp.compot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import dev.tamp.runtime.linalg.Svd;
import org.junit.jupiter.api.Test;

class OrthogonalDictionaryTest {

    private static double orthogonality(Matrix d) {
        return Linalg.multiply(d, true, d, false).minus(Matrix.identity(d.cols())).maxAbs();
    }

    private static double objective(Matrix wTilde, Matrix d, Matrix codesT) {
        return Math.pow(wTilde.minus(Linalg.multiply(d, false, codesT, true)).frobeniusNorm(), 2);
    }

    @Test void dictionaryIsOrthonormalAndCodesAreSparseAfterEveryIterationCount() {
        Matrix w = Fixtures.gaussian(48, 70, 1);
        for (int t = 0; t <= 5; t++) {
            OrthogonalDictionary.Fit fit = OrthogonalDictionary.fit(w, 20, 7, t, OrthogonalDictionary.Init.SVD, 0);
            assertTrue(orthogonality(fit.dictionary()) <= 1e-10, "DᵀD − I max " + orthogonality(fit.dictionary()) + " after " + t);
            for (int r = 0; r < 70; r++) {
                int nz = 0;
                for (int j = 0; j < 20; j++) if (fit.codesT().get(r, j) != 0) nz++;
                assertTrue(nz <= 7, "row " + r + " has " + nz + " non-zeros");
                assertEquals(7, nz, "Gaussian W gives non-zero coefficients, so exactly s are kept (row " + r + ")");
                for (int j = 1; j < 7; j++) assertTrue(fit.support()[r * 7 + j - 1] < fit.support()[r * 7 + j], "support not ascending");
            }
            // The reported objective is the real one.
            double last = fit.objective()[fit.objective().length - 1];
            double real = objective(w, fit.dictionary(), fit.codesT());
            assertEquals(real, last, 1e-10 * w.frobeniusNorm() * w.frobeniusNorm(), "objective bookkeeping");
        }
    }

    @Test void objectiveNeverIncreases() {
        for (OrthogonalDictionary.Init init : OrthogonalDictionary.Init.values()) {
            Matrix w = Fixtures.gaussian(40, 90, 2);
            OrthogonalDictionary.Fit fit = OrthogonalDictionary.fit(w, 24, 6, 40, init, 5);
            double[] j = fit.objective();
            double scale = Math.pow(w.frobeniusNorm(), 2);
            for (int i = 1; i < j.length; i++) {
                assertTrue(j[i] <= j[i - 1] + 1e-12 * scale, init + ": J rose at step " + i + ": " + j[i - 1] + " -> " + j[i]);
            }
            assertTrue(j[j.length - 1] < j[0], init + ": alternation made no progress " + j[0] + " -> " + j[j.length - 1]);
        }
    }

    @Test void codingIsOptimalForTheDictionary() {
        Matrix w = Fixtures.gaussian(12, 15, 3);
        OrthogonalDictionary.Fit fit = OrthogonalDictionary.fit(w, 8, 3, 3, OrthogonalDictionary.Init.SVD, 0);
        Matrix d = fit.dictionary();
        double best = objective(w, d, fit.codesT());
        Matrix full = Linalg.multiply(w, true, d, false); // optimal unconstrained coefficients
        for (int r = 0; r < 15; r++) {
            for (int kept = 0; kept < 8; kept++) {
                if (fit.codesT().get(r, kept) == 0) continue;
                for (int dropped = 0; dropped < 8; dropped++) {
                    if (fit.codesT().get(r, dropped) != 0) continue;
                    Matrix swapped = fit.codesT().copy();
                    swapped.set(r, kept, 0);
                    swapped.set(r, dropped, full.get(r, dropped));
                    double j = objective(w, d, swapped);
                    assertTrue(j >= best - 1e-12, "swapping atom " + kept + " for " + dropped + " in row " + r + " lowers J: " + j + " < " + best);
                }
            }
        }
    }

    @Test void procrustesBeatsRandomOrthonormalDictionaries() {
        Matrix w = Fixtures.gaussian(10, 14, 4);
        OrthogonalDictionary.Fit fit = OrthogonalDictionary.fit(w, 6, 2, 1, OrthogonalDictionary.Init.SVD, 0);
        // One more Procrustes step for the final codes: D* maximises tr(Dᵀ W̃ Sᵀ).
        Matrix m = Linalg.multiply(w, fit.codesT());
        Svd svd = Linalg.svd(m);
        Matrix dStar = Linalg.multiply(svd.u(), svd.vt());
        double best = trace(Linalg.multiply(dStar, true, m, false));
        for (int i = 0; i < 100; i++) {
            Matrix d = OrthogonalDictionary.randomOrthonormal(10, 6, 100 + i);
            double tr = trace(Linalg.multiply(d, true, m, false));
            assertTrue(tr <= best + 1e-12, "random D " + i + " beats Procrustes: " + tr + " > " + best);
        }
    }

    @Test void reducesToTruncatedSvdWhenEveryAtomIsKept() {
        Matrix w = Fixtures.gaussian(30, 50, 5);
        Svd svd = Linalg.svd(w);
        int k = 12;
        double tail = 0;
        for (int r = k; r < svd.s().length; r++) tail += svd.s()[r] * svd.s()[r];
        OrthogonalDictionary.Fit fit = OrthogonalDictionary.fit(w, k, k, 20, OrthogonalDictionary.Init.SVD, 0);
        double j = objective(w, fit.dictionary(), fit.codesT());
        assertEquals(tail, j, 1e-9 * tail, "s = k must give the rank-k SVD error Σ_{r>k} σ²");

        OrthogonalDictionary.Fit exact = OrthogonalDictionary.fit(w, 30, 30, 3, OrthogonalDictionary.Init.SVD, 0);
        double rel = w.minus(Linalg.multiply(exact.dictionary(), false, exact.codesT(), true)).frobeniusNorm() / w.frobeniusNorm();
        assertTrue(rel <= 1e-12, "k = s = min(m, n) must be exact, relative error " + rel);
    }

    @Test void moreAtomsThanOutputsCompletesTheBasis() {
        Matrix w = Fixtures.gaussian(40, 10, 6); // K = 40 > N = 10: the thin SVD has only 10 vectors
        OrthogonalDictionary.Fit fit = OrthogonalDictionary.fit(w, 24, 4, 5, OrthogonalDictionary.Init.SVD, 0);
        assertTrue(orthogonality(fit.dictionary()) <= 1e-10, "DᵀD − I " + orthogonality(fit.dictionary()));
    }

    private static double trace(Matrix a) {
        double t = 0;
        for (int i = 0; i < a.rows(); i++) t += a.get(i, i);
        return t;
    }
}

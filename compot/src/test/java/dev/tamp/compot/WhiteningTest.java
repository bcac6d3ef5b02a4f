package dev.tamp.compot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import org.junit.jupiter.api.Test;

class WhiteningTest {

    @Test void whitenedNormEqualsCalibrationOutputNorm() {
        Matrix x = Fixtures.correlatedInputs(300, 40, 1);
        Matrix g = Fixtures.gram(x);
        Matrix e = Fixtures.gaussian(40, 25, 2); // an error in the [K][N] orientation
        Whitening wh = Whitening.of(g, 0);
        assertEquals(0.0, wh.damping(), "a full-rank Gram needs no damping");
        double lhs = Math.pow(Linalg.multiply(x, e).frobeniusNorm(), 2);
        double rhs = Math.pow(wh.whiten(e).frobeniusNorm(), 2);
        assertEquals(lhs, rhs, 1e-9 * lhs, "‖X E‖² vs ‖Lᵀ E‖²");

        Whitening damped = Whitening.of(g, 1e-3);
        double mean = 0;
        for (int i = 0; i < 40; i++) mean += g.get(i, i) / 40;
        double expected = lhs + 1e-3 * mean * Math.pow(e.frobeniusNorm(), 2);
        double got = Math.pow(damped.whiten(e).frobeniusNorm(), 2);
        assertEquals(expected, got, 1e-9 * expected, "damped: ‖X E‖² + ε mean(diag G) ‖E‖²");

        Matrix d = Fixtures.gaussian(40, 7, 3);
        Matrix back = Linalg.multiply(wh.factor(), true, wh.dewhiten(d), false);
        assertTrue(back.minus(d).maxAbs() <= 1e-9 * d.maxAbs(), "Lᵀ (L^{-T} D) = D");
    }

    @Test void rankDeficientGramIsDamped() {
        Matrix x = Fixtures.correlatedInputs(20, 60, 4); // 20 tokens, 60 channels: G has rank ≤ 20
        Whitening wh = Whitening.of(Fixtures.gram(x), 0);
        assertTrue(wh.damping() > 0, "a rank-20 60x60 Gram cannot be factored undamped");
        assertFalse(wh.eigenFallback());
        assertTrue(wh.factor().allFinite(), "finite factor");
    }

    @Test void indefiniteGramFallsBackToClampedEigenRoot() {
        Matrix g = Matrix.identity(30);
        g.set(4, 4, -5); // far below −0.1·mean(diag): no damping on the ladder rescues it
        Whitening wh = Whitening.of(g, 1e-6);
        assertTrue(wh.eigenFallback(), "expected the eigen fallback");
        Matrix d = Fixtures.gaussian(30, 5, 5);
        Matrix back = Linalg.multiply(wh.factor(), true, wh.dewhiten(d), false);
        assertTrue(back.minus(d).maxAbs() <= 1e-9 * d.maxAbs(), "Rᵀ R^{-T} D = D on the eigen path");
    }

    @Test void unusableGramsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Whitening.of(Matrix.zeros(8, 8), 1e-6));
        Matrix nan = Matrix.identity(8);
        nan.set(0, 0, Double.NaN);
        assertThrows(IllegalArgumentException.class, () -> Whitening.of(nan, 1e-6));
        assertThrows(IllegalArgumentException.class, () -> Whitening.of(Matrix.identity(4), -1));
    }
}

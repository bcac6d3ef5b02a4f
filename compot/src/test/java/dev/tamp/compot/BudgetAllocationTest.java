package dev.tamp.compot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetAllocationTest {

    @Test void storageFormulasMatchTheStoredDtypes() {
        // dictionary f32 [k][K] + values f32 [N][s] + mask of k bits per row, rounded up to bytes
        assertEquals(4L * 196 * 384 + 4L * 384 * 98 + 384L * 25, StorageBudget.dictionaryBytes(384, 384, 196, 98));
        assertEquals(4L * 40000 * 10 + 4L * 7 * 3 + 7L * 5000, StorageBudget.dictionaryBytes(7, 10, 40000, 3));
        assertEquals(4L * 153 * (384 + 384), StorageBudget.lowRankBytes(384, 384, 153));
        // The inverse picks the largest shape that fits and the next one would not.
        for (int[] nk : new int[][] {{384, 384}, {1536, 384}, {384, 1536}}) {
            for (double ratio : new double[] {0.2, 0.5, 0.8}) {
                long budget = (long) (ratio * StorageBudget.denseBytes(nk[0], nk[1]));
                StorageBudget.DictionaryShape d = StorageBudget.dictionaryFor(budget, nk[0], nk[1]);
                assertTrue(StorageBudget.dictionaryBytes(nk[0], nk[1], d.atoms(), d.sparsity()) <= budget, "dictionary over budget");
                assertTrue(d.sparsity() <= d.atoms() && d.atoms() <= nk[1], "1 ≤ s ≤ k ≤ K violated: " + d);
                int s1 = d.sparsity() + 1, k1 = Math.min(nk[1], 2 * s1);
                assertTrue(StorageBudget.dictionaryBytes(nk[0], nk[1], k1, s1) > budget, "a larger dictionary would still fit");
                int r = StorageBudget.rankFor(budget, nk[0], nk[1]);
                assertTrue(StorageBudget.lowRankBytes(nk[0], nk[1], r) <= budget
                        && StorageBudget.lowRankBytes(nk[0], nk[1], r + 1) > budget, "rank " + r + " not maximal");
            }
        }
    }

    /** σ_r = exp(−rate·r): small rate = slowly decaying spectrum. */
    private static double[] spectrum(int n, double rate) {
        double[] s = new double[n];
        for (int r = 0; r < n; r++) s[r] = 3 * Math.exp(-rate * r);
        return s;
    }

    @Test void globalAllocationFavoursSlowSpectraAndHitsTheBudget() {
        List<BudgetAllocation.Layer> layers = new ArrayList<>();
        // Monotone for spectra whose head rises above the pooled threshold. A (near-)flat spectrum is the
        // exception of the normalised-σ pool: all its values sit at 1/sqrt(n), and once the threshold is
        // above that the layer drops to the floor guard (rate 0.002 at ratio 0.3 does).
        double[] rates = {0.2, 0.05, 0.02, 0.01};
        for (int i = 0; i < rates.length; i++) {
            layers.add(new BudgetAllocation.Layer("l" + i, 256, 256, spectrum(256, rates[i])));
        }
        layers.add(new BudgetAllocation.Layer("wide", 1024, 256, spectrum(256, 0.01)));
        long dense = layers.stream().mapToLong(BudgetAllocation.Layer::denseBytes).sum();
        for (double ratio : new double[] {0.3, 0.5, 0.7}) {
            long[] budgets = BudgetAllocation.spectralBudgets(layers, ratio, 0.2, 1.0);
            long total = 0;
            for (int i = 0; i < budgets.length; i++) {
                double r = (double) budgets[i] / layers.get(i).denseBytes();
                double oneByte = 1.0 / layers.get(i).denseBytes(); // budgets are whole bytes, rounded down
                assertTrue(r >= 0.2 - oneByte && r <= 1.0, "guard violated: " + r);
                total += budgets[i];
            }
            assertTrue(total <= ratio * dense, "allocation exceeds the budget");
            for (int i = 1; i < rates.length; i++) {
                assertTrue(budgets[i] >= budgets[i - 1], "ratio " + ratio + ": slower decay (rate " + rates[i] + ") got "
                        + budgets[i] + " < " + budgets[i - 1] + " bytes");
            }
            assertTrue(budgets[3] > budgets[0], "slowest vs fastest spectrum should differ at ratio " + ratio);
            for (Method m : Method.values()) {
                List<BudgetAllocation.Choice> c = BudgetAllocation.choose(m, layers, budgets, (long) (ratio * dense), 1.0);
                long used = c.stream().mapToLong(BudgetAllocation.Choice::storageBytes).sum();
                double achieved = (double) used / dense;
                assertTrue(achieved <= ratio && achieved >= ratio * 0.99, m + " achieved " + achieved + " for " + ratio);
            }
        }
    }

    @Test void uniformAllocationKeepsEveryLayerAtTheRatio() {
        List<BudgetAllocation.Layer> layers = List.of(new BudgetAllocation.Layer("a", 384, 384, new double[0]),
                new BudgetAllocation.Layer("b", 1536, 384, new double[0]));
        long[] b = BudgetAllocation.uniformBudgets(layers, 0.4);
        List<BudgetAllocation.Choice> c = BudgetAllocation.choose(Method.COMPOT, layers, b, 0, 1.0);
        for (int i = 0; i < 2; i++) {
            double r = (double) c.get(i).storageBytes() / layers.get(i).denseBytes();
            assertTrue(r <= 0.4 && r > 0.38, "layer " + i + " ratio " + r);
        }
        assertTrue(BudgetAllocation.choose(Method.SVD, layers, BudgetAllocation.uniformBudgets(layers, 1.0), 0, 1.0)
                .stream().allMatch(BudgetAllocation.Choice::dense), "ratio 1 keeps layers dense");
    }
}

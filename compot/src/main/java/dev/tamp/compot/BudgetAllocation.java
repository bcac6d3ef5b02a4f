package dev.tamp.compot;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Splits a storage budget across layers and turns each layer's bytes into a concrete shape (k and s
 * for COMPOT, a rank for the SVD baselines, or "keep dense").
 *
 * <p>Global ("dynamic") allocation, algorithms.md §3.4: pool every layer's singular values of the
 * original W normalised by ‖W‖_F (so each layer's squared values sum to 1), sort the pool once, and
 * accept values from the top while their cost (one rank unit of that layer: (N + K) float32 values)
 * fits the model-wide budget. A layer whose spectrum decays slowly has many large normalised values and
 * so wins more budget. The per-layer result is then clamped into [minRatio, maxRatio] of its dense
 * size and the clamped difference redistributed among the free layers in proportion to their share.
 */
public final class BudgetAllocation {
    private BudgetAllocation() {}

    /** Guards: no layer is compressed below 20% of its dense bytes (CR_max 0.8), none above dense. */
    public static final double MIN_LAYER_RATIO = 0.2;
    public static final double MAX_LAYER_RATIO = 1.0;

    /** One layer as the allocator sees it: [N][K] and its singular values (any order, any scale). */
    public record Layer(String name, int outFeatures, int inFeatures, double[] singularValues) {
        long denseBytes() { return StorageBudget.denseBytes(outFeatures, inFeatures); }
    }

    /** The chosen shape of one layer; {@code dense} layers have atoms = sparsity = rank = 0. */
    public record Choice(String name, boolean dense, int atoms, int sparsity, int rank, long budgetBytes, long storageBytes) {}

    /** Every layer at the same ratio. */
    public static long[] uniformBudgets(List<Layer> layers, double ratio) {
        long[] b = new long[layers.size()];
        for (int i = 0; i < b.length; i++) b[i] = (long) Math.floor(ratio * layers.get(i).denseBytes());
        return b;
    }

    /** Per-layer byte budgets from the pooled normalised spectra (see the class comment). */
    public static long[] spectralBudgets(List<Layer> layers, double ratio, double minRatio, double maxRatio) {
        int count = layers.size();
        long total = 0;
        for (Layer l : layers) total += l.denseBytes();
        double budget = ratio * total;

        // The pool: (normalised σ, layer). Sorting by value, then layer index, keeps ties deterministic.
        List<double[]> pool = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double[] sv = layers.get(i).singularValues();
            double norm2 = 0;
            for (double v : sv) norm2 += v * v;
            double norm = Math.sqrt(norm2);
            for (double v : sv) pool.add(new double[] {norm == 0 ? 0 : Math.abs(v) / norm, i});
        }
        pool.sort(Comparator.<double[]>comparingDouble(e -> -e[0]).thenComparingDouble(e -> e[1]));
        double[] share = new double[count];
        double spent = 0;
        for (double[] e : pool) {
            int i = (int) e[1];
            double cost = StorageBudget.lowRankBytes(layers.get(i).outFeatures(), layers.get(i).inFeatures(), 1);
            if (spent + cost > budget) break;
            spent += cost;
            share[i] += cost;
        }

        double[] lo = new double[count], hi = new double[count];
        for (int i = 0; i < count; i++) {
            lo[i] = minRatio * layers.get(i).denseBytes();
            hi[i] = maxRatio * layers.get(i).denseBytes();
        }
        // Clamp, then hand the difference to the layers still free to move, in proportion to their share.
        for (int round = 0; round < 10; round++) {
            for (int i = 0; i < count; i++) share[i] = Math.min(hi[i], Math.max(lo[i], share[i]));
            double excess = budget - Arrays.stream(share).sum();
            if (Math.abs(excess) < 1) break;
            double free = 0;
            for (int i = 0; i < count; i++) if (excess > 0 ? share[i] < hi[i] : share[i] > lo[i]) free += share[i];
            if (free <= 0) break;
            for (int i = 0; i < count; i++) {
                if (excess > 0 ? share[i] < hi[i] : share[i] > lo[i]) share[i] += excess * share[i] / free;
            }
        }
        long[] out = new long[count];
        for (int i = 0; i < count; i++) out[i] = (long) Math.floor(Math.min(hi[i], Math.max(lo[i], share[i])));
        return out;
    }

    /**
     * Turns byte budgets into shapes for {@code method}. A layer whose budget reaches its dense size stays
     * dense (storing W costs the same and loses nothing). With {@code topUpTo} > 0 the bytes left by
     * rounding down are spent one increment (s + 1, or rank + 1) at a time on the layers furthest below
     * their budget, never exceeding {@code topUpTo} in total nor {@code maxRatio} of any layer.
     */
    public static List<Choice> choose(Method method, List<Layer> layers, long[] budgets, long topUpTo, double maxRatio) {
        int count = layers.size();
        Choice[] c = new Choice[count];
        long used = 0;
        for (int i = 0; i < count; i++) {
            Layer l = layers.get(i);
            c[i] = budgets[i] >= l.denseBytes() ? denseChoice(l, budgets[i]) : fit(method, l, budgets[i]);
            used += c[i].storageBytes();
        }
        if (topUpTo <= 0) return List.of(c);
        boolean grew = true;
        while (grew && used < topUpTo) {
            grew = false;
            Integer[] order = new Integer[count];
            for (int i = 0; i < count; i++) order[i] = i;
            Choice[] snapshot = c;
            Arrays.sort(order, Comparator.<Integer>comparingLong(i -> -(snapshot[i].budgetBytes() - snapshot[i].storageBytes()))
                    .thenComparingInt(i -> i));
            for (int i : order) {
                if (c[i].dense()) continue;
                Choice next = grow(method, layers.get(i), c[i]);
                if (next == null) continue;
                long cost = next.storageBytes() - c[i].storageBytes();
                if (used + cost <= topUpTo && next.storageBytes() < maxRatio * layers.get(i).denseBytes()) {
                    c[i] = next;
                    used += cost;
                    grew = true;
                }
            }
        }
        return List.of(c);
    }

    private static Choice denseChoice(Layer l, long budget) {
        return new Choice(l.name(), true, 0, 0, 0, budget, l.denseBytes());
    }

    static Choice fit(Method method, Layer l, long budget) {
        int n = l.outFeatures(), k = l.inFeatures();
        if (method == Method.COMPOT) {
            StorageBudget.DictionaryShape d = StorageBudget.dictionaryFor(budget, n, k);
            return new Choice(l.name(), false, d.atoms(), d.sparsity(), 0, budget,
                    StorageBudget.dictionaryBytes(n, k, d.atoms(), d.sparsity()));
        }
        int r = StorageBudget.rankFor(budget, n, k);
        return new Choice(l.name(), false, 0, 0, r, budget, StorageBudget.lowRankBytes(n, k, r));
    }

    /** The next larger shape, or null at the maximum. */
    private static Choice grow(Method method, Layer l, Choice c) {
        int n = l.outFeatures(), k = l.inFeatures();
        if (method == Method.COMPOT) {
            int s = c.sparsity() + 1;
            int atoms = Math.min(k, Math.max(c.atoms(), StorageBudget.ATOMS_PER_NONZERO * s));
            if (s > atoms) return null;
            return new Choice(c.name(), false, atoms, s, 0, c.budgetBytes(), StorageBudget.dictionaryBytes(n, k, atoms, s));
        }
        int r = c.rank() + 1;
        if (r > Math.min(n, k)) return null;
        return new Choice(c.name(), false, 0, 0, r, c.budgetBytes(), StorageBudget.lowRankBytes(n, k, r));
    }
}

package dev.tamp.runtime.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small byte-pair-encoding trainer for building test tokenizers: repeatedly merges the most frequent adjacent
 * pair of symbols (ties: the smaller pair of symbol numbers, for determinism) over words with their counts.
 */
final class BpeTrainer {
    private BpeTrainer() {}

    /** Up to {@code merges} merges, most frequent first; each is the pair {left, right}. */
    static List<String[]> train(List<List<String>> corpusWords, int merges) {
        Map<String, Integer> symbolIds = new HashMap<>();
        List<String> symbols = new ArrayList<>();
        Map<List<String>, Integer> wordCounts = new HashMap<>();
        for (List<String> w : corpusWords) wordCounts.merge(w, 1, Integer::sum);
        List<int[]> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        wordCounts.entrySet().stream().sorted(Map.Entry.comparingByKey((a, b) -> String.join("", a).compareTo(String.join("", b))))
                .forEach(e -> {
                    int[] w = new int[e.getKey().size()];
                    for (int i = 0; i < w.length; i++) w[i] = symbolIds.computeIfAbsent(e.getKey().get(i), s -> { symbols.add(s); return symbols.size() - 1; });
                    words.add(w);
                    counts.add(e.getValue());
                });
        // Pair counts are kept up to date word by word: only words holding the merged pair change.
        Map<Long, Integer> pairs = new HashMap<>();
        for (int k = 0; k < words.size(); k++) countPairs(words.get(k), counts.get(k), pairs);
        List<String[]> out = new ArrayList<>();
        for (int m = 0; m < merges; m++) {
            long best = -1;
            int bestCount = 1;
            for (Map.Entry<Long, Integer> e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best >= 0 && e.getKey() < best)) {
                    bestCount = e.getValue();
                    best = e.getKey();
                }
            }
            if (best < 0) break;
            int left = (int) (best >>> 32), right = (int) best;
            String joined = symbols.get(left) + symbols.get(right);
            out.add(new String[] {symbols.get(left), symbols.get(right)});
            int id = symbolIds.computeIfAbsent(joined, s -> { symbols.add(s); return symbols.size() - 1; });
            for (int k = 0; k < words.size(); k++) {
                int[] w = words.get(k);
                if (!contains(w, left, right)) continue;
                countPairs(w, -counts.get(k), pairs);
                int n = 0;
                for (int i = 0; i < w.length; i++) {
                    if (i + 1 < w.length && w[i] == left && w[i + 1] == right) {
                        w[n++] = id;
                        i++;
                    } else {
                        w[n++] = w[i];
                    }
                }
                int[] merged = java.util.Arrays.copyOf(w, n);
                words.set(k, merged);
                countPairs(merged, counts.get(k), pairs);
            }
        }
        return out;
    }

    private static boolean contains(int[] w, int left, int right) {
        for (int i = 0; i + 1 < w.length; i++) if (w[i] == left && w[i + 1] == right) return true;
        return false;
    }

    private static void countPairs(int[] w, int count, Map<Long, Integer> pairs) {
        for (int i = 0; i + 1 < w.length; i++) {
            long key = ((long) w[i] << 32) | w[i + 1];
            int c = pairs.getOrDefault(key, 0) + count;
            if (c == 0) pairs.remove(key);
            else pairs.put(key, c);
        }
    }
}

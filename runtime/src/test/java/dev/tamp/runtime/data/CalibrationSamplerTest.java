package dev.tamp.runtime.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class CalibrationSamplerTest {
    @Test
    void bundledSplitsAreDisjointAndHoldOutThe1980s() {
        List<TextCorpus.Document> cal = TextCorpus.bundled(TextCorpus.Split.CALIBRATION);
        List<TextCorpus.Document> held = TextCorpus.bundled(TextCorpus.Split.HELD_OUT);
        assertEquals(95, cal.size() + held.size());
        assertEquals(11, held.size(), "10 addresses of the 1980s + Sense and Sensibility");
        var names = new HashSet<String>();
        cal.forEach(d -> names.add(d.name()));
        held.forEach(d -> assertFalse(names.contains(d.name()), d.name()));
        assertTrue(held.stream().allMatch(d -> d.text().length() > 10_000));
    }

    @Test
    void samplingIsSeededAndReproducible() {
        var docs = TextCorpus.bundled(TextCorpus.Split.CALIBRATION);
        List<String> a = CalibrationSampler.sample(docs, CalibrationSampler.Mode.SENTENCE, 128, 0, 0);
        List<String> b = CalibrationSampler.sample(docs, CalibrationSampler.Mode.SENTENCE, 128, 0, 0);
        List<String> c = CalibrationSampler.sample(docs, CalibrationSampler.Mode.SENTENCE, 128, 1, 0);
        assertEquals(128, a.size());
        assertEquals(a, b);
        assertNotEquals(a, c);
        assertEquals(CalibrationSampler.hash(a), CalibrationSampler.hash(b));
        assertNotEquals(CalibrationSampler.hash(a), CalibrationSampler.hash(c));
        assertEquals(a.size(), new HashSet<>(a).size(), "no sentence drawn twice");
        for (String s : a) {
            int words = s.split(" ").length;
            assertTrue(words >= 6 && words <= 64, s);
        }
    }

    @Test
    void sentenceSplitterJoinsLinesAndKeepsClosingQuotes() {
        List<String> s = Sentences.split("He said \"stop.\" Then he\nleft the room quietly at last.\n\nA new one here we go now!", 3, 50);
        assertEquals(List.of("He said \"stop.\"", "Then he left the room quietly at last.", "A new one here we go now!"), s);
    }

    @Test
    void windowsCoverTheTextAtWordBoundaries() {
        String text = "one two three four five six seven eight nine ten";
        List<String> w = Sentences.windows(text, 12);
        assertEquals(text, String.join(" ", w));
        assertTrue(w.stream().allMatch(x -> x.length() <= 12), w.toString());
    }

    @Test
    void paraphrasePairsLoadAll() {
        var all = ParaphrasePairs.all();
        assertEquals(21_819, all.size());
        var even = ParaphrasePairs.evenlySpaced(2000);
        assertEquals(2000, even.size());
        assertEquals("GEN 1:1", even.get(0).ref());
        assertFalse(even.get(1999).kjv().isBlank());
    }
}

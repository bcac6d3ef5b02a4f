package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tamp recipe: steps chain, provenance names the recipe, a second run resumes, failures keep their exit codes. */
class RecipeCliTest {
    @TempDir Path tmp;

    private Path recipe(String name, String body) throws Exception {
        Path f = tmp.resolve(name + ".yaml");
        Files.writeString(f, body);
        return f;
    }

    private static List<String> statuses(CliTest.Run r) throws Exception {
        List<String> s = new ArrayList<>();
        for (JsonNode step : Json.parse(r.out()).get("steps")) s.add(step.get("status").asText());
        return s;
    }

    private String stories(double maxKl, int bits) {
        return "name: stories\nmodel: stories260k\nsteps:\n"
                + "  - convert\n"
                + "  - quantize: {method: rtn, bits: " + bits + "}\n"
                + "  - verify: {reference: stories260k, max-kl: " + maxKl + ", sequences: 8}\n"
                + "output: " + tmp.resolve("final.tpk") + "\n";
    }

    @Test
    void runsResumesAndRedoesOnlyWhatChanged() throws Exception {
        Path work = tmp.resolve("work");
        Path f = recipe("stories", stories(0.2, 8));
        CliTest.Run first = tamp("recipe", f.toString(), "--workdir", work.toString(), "--json");
        assertEquals(0, first.code(), first.err());
        assertEquals(List.of("ran", "ran", "ran"), statuses(first));
        JsonNode rep = Json.parse(first.out());
        assertTrue(rep.get("passed").asBoolean());
        assertEquals("quantize", rep.get("steps").get(1).get("arguments").get(0).asText());
        assertEquals(work.resolve("01-convert.tpk").toString(), rep.get("steps").get(1).get("arguments").get(1).asText(),
                "step 2 reads step 1's output");
        Path fin = tmp.resolve("final.tpk");
        byte[] finalBytes = Files.readAllBytes(fin);
        assertArrayEquals(Files.readAllBytes(work.resolve("02-quantize.tpk")), finalBytes, "output is the last artifact");

        CliTest.Run inspect = tamp("inspect", fin.toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        String prov = inspect.out();
        assertTrue(prov.contains("stories#1") && prov.contains("stories#2"), "provenance names the recipe steps: " + prov);

        CliTest.Run again = tamp("recipe", f.toString(), "--workdir", work.toString(), "--json");
        assertEquals(0, again.code(), again.err());
        assertEquals(List.of("skipped", "skipped", "skipped"), statuses(again));

        // an interrupted run lost step 2's output: step 1 is kept, step 2 redone with identical bytes
        Files.delete(work.resolve("02-quantize.tpk"));
        CliTest.Run resumed = tamp("recipe", f.toString(), "--workdir", work.toString(), "--json");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(List.of("skipped", "ran", "skipped"), statuses(resumed),
                "identical bytes from the redone step let the verify record stand");
        assertArrayEquals(finalBytes, Files.readAllBytes(work.resolve("02-quantize.tpk")));

        // a changed option redoes that step and what follows it
        Files.writeString(f, stories(5.0, 4));
        CliTest.Run changed = tamp("recipe", f.toString(), "--workdir", work.toString(), "--json");
        assertEquals(0, changed.code(), changed.err());
        assertEquals(List.of("skipped", "ran", "ran"), statuses(changed));
        assertFalse(java.util.Arrays.equals(finalBytes, Files.readAllBytes(fin)));

        CliTest.Run restart = tamp("recipe", f.toString(), "--workdir", work.toString(), "--json", "--restart");
        assertEquals(List.of("ran", "ran", "ran"), statuses(restart));
    }

    @Test
    void aFailedThresholdStopsWithExitOne() throws Exception {
        Path f = recipe("strict", stories(1e-9, 4).replace("output:", "#output:"));
        CliTest.Run r = tamp("recipe", f.toString(), "--workdir", tmp.resolve("w").toString(), "--json");
        assertEquals(1, r.code(), r.err());
        assertEquals(List.of("ran", "ran", "failed"), statuses(r));
        assertFalse(Json.parse(r.out()).get("passed").asBoolean());
        assertTrue(r.err().contains("kl"), r.err());
    }

    @Test
    void badRecipesAreOneLineErrorsNamingTheFile() throws Exception {
        String[][] cases = {
                {"nosteps", "model: minilm\n", "steps"},
                {"unknown", "model: minilm\nsteps:\n  - frobnicate: {x: 1}\n", "frobnicate"},
                {"supplied", "model: minilm\nsteps:\n  - quantize: {method: rtn, output: x.tpk}\n", "output"},
                {"badyaml", "model: [minilm\nsteps: {\n", "yaml"},
                {"extrakey", "model: minilm\nstep:\n  - convert\n", "step"},
                {"nested", "model: minilm\nsteps:\n  - quantize: {method: {a: 1}}\n", "method"},
        };
        for (String[] c : cases) {
            Path f = recipe(c[0], c[1]);
            CliTest.Run r = tamp("recipe", f.toString(), "--workdir", tmp.resolve("w-" + c[0]).toString());
            CliTest.assertOneLineError(r, f, c[2]);
            assertFalse(Files.exists(tmp.resolve("w-" + c[0])), "nothing written for " + c[0]);
        }
        CliTest.Run missing = tamp("recipe", tmp.resolve("absent.yaml").toString());
        CliTest.assertOneLineError(missing, tmp.resolve("absent.yaml"), "not found");
        // a step's own bad flag surfaces with the step's exit code
        Path f = recipe("badflag", "model: stories260k\nsteps:\n  - quantize: {method: rtn, bits: 3}\n");
        CliTest.Run r = tamp("recipe", f.toString(), "--workdir", tmp.resolve("w-flag").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("bits"), r.err());
    }

    /** The shipped example recipes read, and every step's arguments parse as that tamp command's flags. */
    @Test
    void shippedRecipesParseAgainstTheRealCommands() throws Exception {
        Path dir = Path.of(System.getProperty("user.dir")).getParent().resolve("recipes");
        List<Path> files;
        try (var st = Files.list(dir)) {
            files = st.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 3, "example recipes in " + dir);
        for (Path f : files) {
            dev.tamp.cli.recipe.Recipe r = dev.tamp.cli.recipe.Recipe.read(f);
            String input = r.model();
            for (dev.tamp.cli.recipe.RecipeStep step : r.steps()) {
                Path out = step.kind().producesArtifact() ? tmp.resolve(step.index() + "-" + step.command() + ".tpk") : null;
                List<String> args = step.arguments(input, out);
                try {
                    Tamp.commandLine().parseArgs(args.toArray(String[]::new));
                } catch (picocli.CommandLine.ParameterException e) {
                    fail(f.getFileName() + " step " + step.index() + " (" + String.join(" ", args) + "): " + e.getMessage());
                }
                if (out != null) input = out.toString();
            }
        }
    }
}

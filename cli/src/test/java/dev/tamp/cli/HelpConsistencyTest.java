package dev.tamp.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every command reads the same way: a description, examples, a description for every option, `-o/--output` for
 * what it writes, `--json` for scripts; and the generated shell completion knows every command.
 */
class HelpConsistencyTest {
    private static final Set<String> HELPERS = Set.of("help", "generate-completion");

    private static Map<String, CommandLine> commands() {
        Map<String, CommandLine> m = new java.util.TreeMap<>(Tamp.commandLine().getSubcommands());
        m.keySet().removeAll(HELPERS);
        return m;
    }

    @Test
    void everyCommandHasExamplesDescribedOptionsOutputAndJson() {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, CommandLine> e : commands().entrySet()) {
            CommandSpec spec = e.getValue().getCommandSpec();
            String name = e.getKey();
            if (spec.usageMessage().description().length == 0) problems.add(name + ": no description");
            if (!String.join("\n", spec.usageMessage().footer()).contains("Examples:")) problems.add(name + ": no examples");
            for (OptionSpec o : spec.options()) {
                if (o.description().length == 0 || o.description()[0].isBlank()) problems.add(name + " " + o.longestName() + ": no description");
                for (String n : o.names()) {
                    if (n.startsWith("--") && !n.matches("--[a-z0-9]+(-[a-z0-9]+)*")) problems.add(name + " " + n + ": not kebab-case");
                }
                if (List.of(o.names()).contains("-o") && !List.of(o.names()).contains("--output")) problems.add(name + ": -o without --output");
                if (o.longestName().matches("--(out|outfile|output-file|dest)")) problems.add(name + " " + o.longestName() + ": use -o/--output");
            }
            if (spec.findOption("--json") == null) problems.add(name + ": no --json");
            // picocli formats help text: a lone % (write "10%%") garbles it and warns on stderr
            java.io.PrintStream err = System.err;
            java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            try {
                e.getValue().getUsageMessage();
            } finally {
                System.setErr(err);
            }
            if (captured.toString(java.nio.charset.StandardCharsets.UTF_8).contains("Could not format")) problems.add(name + ": help text does not format");
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void completionScriptKnowsEveryCommandAndItsOptions() {
        CliTest.Run r = CliTest.tamp("generate-completion");
        assertEquals(0, r.code(), r.err());
        for (Map.Entry<String, CommandLine> e : commands().entrySet()) {
            assertTrue(r.out().contains(e.getKey()), "completion lists " + e.getKey());
            for (OptionSpec o : e.getValue().getCommandSpec().options()) {
                assertTrue(r.out().contains(o.longestName()), "completion knows " + e.getKey() + " " + o.longestName());
            }
        }
    }
}

package io.gatehouse.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Reads a YAML file into a {@link GatehouseConfig}, or fails with every problem it can find, each located as
 * {@code file:line:column: key.path: message}, e.g.
 * {@code gatehouse.yaml:14:9: clusters[0].endpoints[1].weight: must be 1..1000}.
 *
 * <p>Steps: parse the YAML into a located tree ({@code ${VAR}} substituted in scalars), bind it onto the records
 * (their compact constructors hold the defaults and rules), then check what spans records (references, unique names,
 * address collisions, regexes, CIDRs). The format is described in {@code docs/configuration.md}.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    public static GatehouseConfig load(Path file) throws ConfigException {
        return load(file, System::getenv);
    }

    /** @param env looks up {@code ${NAME}} references; null for an unset variable */
    public static GatehouseConfig load(Path file, Function<String, String> env) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigException.ConfigProblem(file.toString(), 0, 0, "",
                    "cannot read: " + e)));
        }
        return parse(yaml, file.toString(), env);
    }

    public static GatehouseConfig parse(String yaml, String fileName) throws ConfigException {
        return parse(yaml, fileName, System::getenv);
    }

    /** @param env looks up {@code ${NAME}} references; null for an unset variable */
    public static GatehouseConfig parse(String yaml, String fileName, Function<String, String> env) throws ConfigException {
        Problems problems = new Problems(fileName);
        YamlNode root = new YamlReader(problems, env).read(yaml);
        if (!problems.isEmpty() && root == null) throw new ConfigException(problems.sorted());
        GatehouseConfig config = new RecordBinder(problems).bind(GatehouseConfig.class, root);
        new ConfigChecks(problems).run(root);
        if (!problems.isEmpty() || config == null) throw new ConfigException(problems.sorted());
        return config.consumersFile() == null ? config : withConsumersFile(config, fileName, env);
    }

    /** Where {@code consumers_file} is: relative to the directory of the configuration file that names it. */
    public static Path consumersFile(String configFileName, String consumersFile) {
        Path base = Path.of(configFileName).toAbsolutePath().getParent();
        return base == null ? Path.of(consumersFile) : base.resolve(consumersFile);
    }

    /** The consumers of a {@code consumers_file}: a YAML file whose one key is {@code consumers}, as in the main file. */
    public record ConsumersFileConfig(List<ConsumerConfig> consumers) {
        public ConsumersFileConfig {
            consumers = consumers == null ? List.of() : List.copyOf(consumers);
        }
    }

    private static GatehouseConfig withConsumersFile(GatehouseConfig config, String fileName, Function<String, String> env) throws ConfigException {
        Path file = consumersFile(fileName, config.consumersFile());
        Problems problems = new Problems(file.toString());
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigException.ConfigProblem(fileName, 0, 0, "consumers_file",
                    "cannot read " + file + ": " + e)));
        }
        YamlNode root = new YamlReader(problems, env).read(yaml);
        if (!problems.isEmpty() && root == null) throw new ConfigException(problems.sorted());
        ConsumersFileConfig consumers = new RecordBinder(problems).bind(ConsumersFileConfig.class, root);
        if (!problems.isEmpty() || consumers == null) throw new ConfigException(problems.sorted());
        java.util.Set<String> names = new java.util.HashSet<>();
        for (ConsumerConfig c : config.consumers()) names.add(c.name());
        List<ConsumerConfig> all = new java.util.ArrayList<>(config.consumers());
        for (int i = 0; i < consumers.consumers().size(); i++) {
            ConsumerConfig c = consumers.consumers().get(i);
            if (!names.add(c.name())) {
                YamlNode.Mark mark = root instanceof YamlNode.Mapping m && m.entries().get("consumers") != null
                        && m.entries().get("consumers").value() instanceof YamlNode.Sequence s ? s.items().get(i).mark() : null;
                problems.add(mark, "consumers[" + i + "].name", "consumer " + c.name() + " is defined twice (here and in " + fileName + ")");
            }
            all.add(c);
        }
        if (!problems.isEmpty()) throw new ConfigException(problems.sorted());
        return config.withConsumers(all);
    }
}

package io.gatehouse.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a YAML file into a {@link GatehouseConfig}. Placeholder: plain Jackson mapping; the validating loader with
 * file:line:column errors replaces it.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    public static GatehouseConfig load(Path file) throws ConfigException {
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigException.ConfigProblem(file.toString(), 0, 0, "", e.getMessage())));
        }
    }

    public static GatehouseConfig parse(String yaml, String fileName) throws ConfigException {
        ObjectMapper mapper = JsonMapper.builder(new YAMLFactory())
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .findAndAddModules()
                .build();
        try {
            return mapper.readValue(yaml, GatehouseConfig.class);
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigException.ConfigProblem(fileName, 0, 0, "", e.getMessage())));
        }
    }
}

package io.tourniquet.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The part of kustomize that infra/k8s uses, for tests: resources (files and directories),
 * namespace, labels, and patches given by path whose target is the patch's own kind and name. The
 * point is to check what would be applied, not the files one by one, and without depending on a
 * kubectl being installed; where one is, KubernetesManifestsTest compares this with its output.
 *
 * <p>A kustomization field this class does not implement fails the rendering instead of being
 * ignored, so a test never passes on a rendering that differs from kustomize's.
 */
final class Kustomize {
    private Kustomize() {}

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "resources", "namespace", "labels",
            "patches");

    /**
     * How a list in a patch meets the base's list. kustomize has no schema for a custom resource
     * such as FlinkDeployment, so it replaces lists (JSON merge patch); for the built-in kinds it
     * merges lists of named items by name. The overlays must not depend on which one applies.
     */
    enum Lists { REPLACE, MERGE_BY_NAME }

    /** Every document of a YAML file (empty documents skipped). */
    static List<ObjectNode> read(Path file) {
        try {
            return readDocuments(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    static List<ObjectNode> readDocuments(String yaml) throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                if (doc == null || doc.isNull() || doc.isMissingNode()) continue;
                if (!doc.isObject()) throw new IOException("a document is not a mapping: " + doc);
                out.add((ObjectNode) doc);
            }
        }
        return out;
    }

    /** The resources {@code kubectl apply -k dir} would send, with lists in patches treated as {@code lists}. */
    static List<ObjectNode> build(Path dir, Lists lists) {
        List<ObjectNode> k = read(dir.resolve("kustomization.yaml"));
        if (k.size() != 1) throw new IllegalStateException(dir + ": expected one kustomization document");
        ObjectNode kustomization = k.get(0);
        for (Iterator<String> it = kustomization.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!SUPPORTED.contains(field)) {
                throw new IllegalStateException(dir + "/kustomization.yaml: '" + field
                        + "' is not implemented by the test renderer; extend Kustomize before using it");
            }
        }
        List<ObjectNode> resources = new ArrayList<>();
        for (JsonNode r : kustomization.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                resources.addAll(build(p, lists));
            } else {
                resources.addAll(read(p));
            }
        }
        for (JsonNode patchRef : kustomization.path("patches")) {
            if (!patchRef.has("path") || patchRef.size() != 1) {
                throw new IllegalStateException(dir + ": only 'patches: - path: file' is implemented: " + patchRef);
            }
            for (ObjectNode patch : read(dir.resolve(patchRef.get("path").asText()))) {
                ObjectNode target = find(resources, patch.path("kind").asText(),
                        patch.path("metadata").path("name").asText());
                if (target == null) {
                    throw new IllegalStateException(dir + ": patch " + patchRef.get("path").asText() + " matches no "
                            + patch.path("kind").asText() + " named " + patch.path("metadata").path("name").asText());
                }
                resources.set(resources.indexOf(target), (ObjectNode) merge(target, patch, lists));
            }
        }
        if (kustomization.has("namespace")) {
            String namespace = kustomization.get("namespace").asText();
            for (ObjectNode r : resources) {
                r.withObjectProperty("metadata").put("namespace", namespace);
                // As kustomize does: a binding's subject that is one of these service accounts moves
                // with it.
                if (r.path("kind").asText().endsWith("RoleBinding")) {
                    for (JsonNode subject : r.path("subjects")) {
                        if (subject.path("kind").asText().equals("ServiceAccount")
                                && find(resources, "ServiceAccount", subject.path("name").asText()) != null) {
                            ((ObjectNode) subject).put("namespace", namespace);
                        }
                    }
                }
            }
        }
        for (JsonNode label : kustomization.path("labels")) {
            for (ObjectNode r : resources) {
                ObjectNode labels = r.withObjectProperty("metadata").withObjectProperty("labels");
                label.path("pairs").fields().forEachRemaining(e -> labels.set(e.getKey(), e.getValue()));
            }
        }
        return resources;
    }

    static ObjectNode find(List<ObjectNode> resources, String kind, String name) {
        for (ObjectNode r : resources) {
            if (r.path("kind").asText().equals(kind) && r.path("metadata").path("name").asText().equals(name)) {
                return r;
            }
        }
        return null;
    }

    /** {@code patch} applied to a copy of {@code base}: maps merge, null deletes, lists per {@code lists}. */
    static JsonNode merge(JsonNode base, JsonNode patch, Lists lists) {
        if (patch.isObject() && base != null && base.isObject()) {
            ObjectNode out = base.deepCopy();
            patch.fields().forEachRemaining(e -> {
                if (e.getValue().isNull()) {
                    out.remove(e.getKey());
                } else {
                    out.set(e.getKey(), merge(out.get(e.getKey()), e.getValue(), lists));
                }
            });
            return out;
        }
        if (lists == Lists.MERGE_BY_NAME && patch.isArray() && base != null && base.isArray()
                && allNamed(patch) && allNamed(base)) {
            Map<String, JsonNode> byName = new LinkedHashMap<>();
            base.forEach(item -> byName.put(item.get("name").asText(), item));
            patch.forEach(item -> byName.merge(item.get("name").asText(), item, (b, p) -> merge(b, p, lists)));
            ArrayNode out = YAML.createArrayNode();
            byName.values().forEach(out::add);
            return out;
        }
        return patch.deepCopy();
    }

    private static boolean allNamed(JsonNode array) {
        for (JsonNode item : array) {
            if (!item.isObject() || !item.hasNonNull("name")) return false;
        }
        return true;
    }
}

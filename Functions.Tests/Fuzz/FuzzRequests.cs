using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;

namespace Serverless.Tests.Fuzz;

/// <summary>A request the fuzzer sends, exactly: enough to print it as a reproduction and to send it again.</summary>
public sealed record FuzzRequest(string Operation, string Principal, string Kind, string Method, string Url,
    IReadOnlyList<KeyValuePair<string, string>> Headers, byte[]? Body, string? ContentType)
{
    /// <summary>Smaller is simpler (for picking the least of several failures).</summary>
    public long Weight => Url.Length + (Body?.Length ?? 0) + Headers.Sum(h => h.Key.Length + h.Value.Length);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Method} {Url}\n");
        text.Append(CultureInfo.InvariantCulture, $"  (operation {Operation}; principal {Principal}; {Kind})\n");
        foreach (var (name, value) in Headers)
            text.Append(CultureInfo.InvariantCulture, $"{name}: {Clip(value, 300)}\n");
        if (ContentType is not null)
            text.Append(CultureInfo.InvariantCulture, $"Content-Type: {ContentType}\n");
        if (Body is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"Content-Length: {Body.Length}\n\n");
            text.Append(Printable(Body, 1500));
            if (Body.Length <= 4096)
                text.Append(CultureInfo.InvariantCulture, $"\n  (body as base64: {Convert.ToBase64String(Body)})");
        }
        return text.ToString();
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max] + $"… ({text.Length} chars in all)";

    /// <summary>The body as text, bytes that are not valid UTF-8 as <c>\xNN</c>, long bodies cut with their length.</summary>
    public static string Printable(byte[] body, int max)
    {
        var text = new StringBuilder();
        var strict = new UTF8Encoding(false, true);
        var i = 0;
        while (i < body.Length && text.Length < max)
        {
            var length = body[i] < 0x80 ? 1 : body[i] >= 0xF0 ? 4 : body[i] >= 0xE0 ? 3 : body[i] >= 0xC0 ? 2 : 1;
            try
            {
                if (i + length > body.Length)
                    throw new DecoderFallbackException();
                var decoded = strict.GetString(body, i, length);
                text.Append(decoded is "\r" or "\n" or "\t" || !char.IsControl(decoded[0]) ? decoded : $"\\x{body[i]:X2}");
                i += length;
            }
            catch (ArgumentException)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{body[i]:X2}");
                i++;
            }
        }
        if (i < body.Length)
            text.Append(CultureInfo.InvariantCulture, $"… ({body.Length} bytes in all)");
        return text.ToString();
    }
}

/// <summary>
/// CsCheck generators of requests for one operation, from its schemas: valid ones (path, query and header parameters
/// and a JSON body of the documented types, enums, bounds, lengths and simple patterns) and hostile ones (one
/// mutation of a valid request: wrong types, missing and extra fields, huge strings and numbers, deep nesting,
/// invalid UTF-8, wrong content types, oversized and malformed bodies, hostile path segments and query values, bad
/// credentials, wrong methods). Mutations are chosen by small integers, so CsCheck's shrinking tends to simpler ones.
/// </summary>
public sealed class FuzzRequests(FuzzDocument document, IReadOnlyList<Principal> principals,
    IReadOnlyDictionary<string, List<string>> known, DateTimeOffset now, long maxBodyBytes)
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";
    private const string AlphaNumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const int MaxDepth = 5;

    public enum Mutation
    {
        RootWrongType, FieldWrongType, MissingField, ExtraField, HugeString, HugeNumber, DeepNesting, InvalidUtf8,
        WrongContentType, OversizedBody, MalformedJson, EmptyBody, NullFields, HostilePathSegment, LongPathSegment,
        QueryWrongType, HostileQuery, BadAuthorization, HugeHeader, BadIdempotencyKey, WrongMethod,
    }

    private static readonly Mutation[] AllMutations = Enum.GetValues<Mutation>();

    private static readonly string[] HostileSegments =
    [
        "..", "../..", "..%2F..%2Fplatform%2Fme", "%2e%2e", "%2E%2E%2F%2E%2E%2Fhealth", "%00", "a%00b", "%", "%zz", "%C3%28", "%FF%FE",
        "%F0%9F%98%80", "%C3%BC", "%20", "null", "-1", "0", "99999999999999999999999999", "1e9", "NaN", "true", "%7Bid%7D",
        "%3Cscript%3E", "'", "%22", ";", "a%2Fb", "%5C..%5C..", "....//", "%252e%252e", ".", "%2e", "~", "%0D%0AX-Injected:%201",
    ];

    private static readonly JsonNode?[] WrongTypes =
        [JsonValue.Create(12345), JsonValue.Create("a string"), JsonValue.Create(true), null, new JsonArray(), new JsonObject(),
         JsonValue.Create(1.5), JsonValue.Create(-1), JsonValue.Create(""), new JsonArray(1, 2), new JsonObject { ["a"] = 1 }];

    private static readonly string[] HugeNumbers =
        ["1e308", "-1e308", "1e400", "99999999999999999999999999999999999999", "-9223372036854775809", "9223372036854775808",
         "0.0000000000000000000000000001", "-0", "1.7976931348623157E+309", "123456789012345678901234567890.123456789"];

    private static readonly string[] Malformed =
        ["{", "}", "{\"a\":}", "{\"a\" 1}", "{'a': 1}", "{\"a\":1,}", "[1,2,", "{\"a\":NaN}", "{\"a\":Infinity}", "/* c */ {}", "nul",
         "{\"a\":\"unterminated}", "{\"a\":1}{\"b\":2}", "\"\\uD800\"", "{\"a\":\"\\x41\"}", "\uFEFF{}", "{\"a\":01}", "{\"a\":.5}"];

    private static readonly string[] WrongContentTypes =
        ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream",
         "application/json; charset=utf-16", "application/jsonx", "*/*", "", "application/json; charset=\"\""];

    public Gen<FuzzRequest> For(FuzzOperation operation)
    {
        var principal = PrincipalGen(operation);
        var path = Sequence(operation.Parameters.Where(p => p.In == "path")
            .Select(p => Known(p.Name, ValueGen(p.Schema, 0)).Select(v => (p.Name, Value: ParameterText(v)))));
        var query = Sequence(operation.Parameters.Where(p => p.In == "query")
            .Select(p => Gen.Int[0, 2].Select(Known(p.Name, ValueGen(p.Schema, 0)), (include, v) => (p.Name, Value: p.Required || include > 0 ? ParameterText(v) : null))));
        var headers = Sequence(operation.Parameters.Where(p => p.In == "header")
            .Select(p => Gen.Int[0, 3].Select(Gen.String[Gen.Char[AlphaNumeric], 8, 36], (include, v) => (p.Name, Value: p.Required || include > 0 ? v : null))));
        var body = operation.BodySchema is null ? Gen.Const<JsonNode?>((JsonNode?)null) : ValueGen(operation.BodySchema, 0);
        var mutation = Gen.Select(Gen.Int[0, AllMutations.Length - 1], Gen.Int[0, 1000], Gen.Int[0, 1000]);
        return Gen.Select(principal, path, query, headers, body, Gen.Int[0, 4], mutation,
            (who, pathValues, queryValues, headerValues, json, hostile, m) =>
                Build(operation, who, pathValues, queryValues, headerValues, json, hostile < 2 ? null : (AllMutations[m.Item1], m.Item2, m.Item3)));
    }

    private Gen<Principal> PrincipalGen(FuzzOperation operation)
    {
        // The operation's own surface's principals most often; anyone else now and then.
        var weighted = principals.Select(p => (p.Surfaces.Any(s => operation.Tag.StartsWith(s, StringComparison.Ordinal)) ? 4 : 1, p)).ToArray();
        return Gen.Frequency(weighted);
    }

    private Gen<JsonNode?> Known(string name, Gen<JsonNode?> gen) =>
        known.TryGetValue(name, out var values) && values.Count > 0
            ? Gen.Frequency((1, gen), (1, Gen.OneOf(values.ToArray()).Select(v => (JsonNode?)JsonValue.Create(v))))
            : gen;

    private static Gen<List<T>> Sequence<T>(IEnumerable<Gen<T>> gens) =>
        gens.Aggregate(Gen.Const(new List<T>()), (all, next) => all.Select(next, (list, item) => new List<T>(list) { item }));

    private static string ParameterText(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        _ => value.ToJsonString(),
    };

    /// <summary>A value the schema accepts (as far as simple schemas go).</summary>
    public Gen<JsonNode?> ValueGen(JsonNode? schema, int depth)
    {
        schema = document.Resolve(schema);
        if (schema is null || depth > MaxDepth)
            return Gen.Const<JsonNode?>(JsonValue.Create("x"));
        if (schema["enum"] is JsonArray values && values.Count > 0)
        {
            var choices = values.Where(v => v is not null).Select(v => v!.ToJsonString()).ToArray();
            return choices.Length == 0 ? Gen.Const<JsonNode?>((JsonNode?)null) : Gen.OneOf(choices).Select(JsonNode? (text) => JsonNode.Parse(text));
        }
        if (schema["const"] is { } constant)
        {
            var text = constant.ToJsonString();
            return Gen.Const(0).Select(JsonNode? (_) => JsonNode.Parse(text));
        }
        foreach (var key in new[] { "oneOf", "anyOf" })
            if (schema[key] is JsonArray options && options.Count > 0)
            {
                var nonNull = options.Where(o => document.Resolve(o)?["type"]?.GetValue<string>() != "null").ToList();
                return Gen.OneOf((nonNull.Count > 0 ? nonNull : options.ToList()).Select(o => (IGen<JsonNode?>)ValueGen(o, depth + 1)).ToArray());
            }
        if (schema["allOf"] is JsonArray parts && parts.Count > 0)
            return ValueGen(Merge(parts), depth + 1);
        var types = schema["type"] switch
        {
            JsonValue single => [single.GetValue<string>()],
            JsonArray many => many.Select(t => t!.GetValue<string>()).ToArray(),
            _ => schema["properties"] is not null ? ["object"] : schema["items"] is not null ? ["array"] : ["string"],
        };
        var nullable = types.Contains("null");
        var concrete = types.Where(t => t != "null").ToArray();
        if (concrete.Length == 0)
            return Gen.Const<JsonNode?>((JsonNode?)null);
        // A number that may also be written as a string (decimals): a number mostly.
        var type = concrete.Contains("number") ? "number" : concrete.Contains("integer") ? "integer" : concrete[0];
        var gen = type switch
        {
            "string" => StringGen(schema).Select(JsonNode? (s) => JsonValue.Create(s)),
            "integer" => IntegerGen(schema),
            "number" => NumberGen(schema, asString: concrete.Contains("string") && !concrete.Contains("number")),
            "boolean" => Gen.Bool.Select(JsonNode? (b) => JsonValue.Create(b)),
            "array" => ArrayGen(schema, depth),
            "object" => ObjectGen(schema, depth),
            _ => Gen.Const<JsonNode?>(JsonValue.Create("x")),
        };
        return nullable ? Gen.Frequency((9, gen), (1, Gen.Const<JsonNode?>((JsonNode?)null))) : gen;
    }

    private JsonNode Merge(JsonArray parts)
    {
        var merged = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["required"] = new JsonArray() };
        foreach (var part in parts.Select(document.Resolve).OfType<JsonObject>())
        {
            if (part["properties"] is not JsonObject properties)
                return part.DeepClone();
            foreach (var (name, value) in properties)
                merged["properties"]![name] = value?.DeepClone();
            foreach (var name in part["required"]?.AsArray() ?? [])
                merged["required"]!.AsArray().Add(name?.DeepClone());
        }
        return merged;
    }

    private Gen<JsonNode?> ObjectGen(JsonNode schema, int depth)
    {
        var required = (schema["required"]?.AsArray() ?? []).Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var properties = (schema["properties"]?.AsObject() ?? []).ToList();
        var fields = properties.Select(p => Gen.Int[0, 2].Select(ValueGen(p.Value, depth + 1),
            (include, value) => (p.Key, Include: required.Contains(p.Key) || include > 0, Value: value)));
        return Sequence(fields).Select(JsonNode? (list) =>
        {
            var json = new JsonObject();
            foreach (var (name, include, value) in list)
                if (include)
                    json[name] = value?.DeepClone();
            return json;
        });
    }

    private Gen<JsonNode?> ArrayGen(JsonNode schema, int depth)
    {
        var min = (int)Math.Min(schema["minItems"]?.GetValue<long>() ?? 0, 5);
        var max = (int)Math.Max(min, Math.Min(schema["maxItems"]?.GetValue<long>() ?? 3, 3));
        return ValueGen(schema["items"], depth + 1).List[min, max].Select(JsonNode? (items) => new JsonArray(items.Select(i => i?.DeepClone()).ToArray()));
    }

    private static Gen<JsonNode?> IntegerGen(JsonNode schema)
    {
        var min = Bound(schema, "minimum", "exclusiveMinimum", +1) ?? 0;
        var max = Bound(schema, "maximum", "exclusiveMaximum", -1) ?? Math.Max(min, 0) + 1000;
        var (low, high) = ((long)Math.Max(min, -1_000_000_000), (long)Math.Min(max, 1_000_000_000));
        if (high < low)
            high = low;
        return Gen.Long[low, high].Select(JsonNode? (v) => JsonValue.Create(v));
    }

    private static Gen<JsonNode?> NumberGen(JsonNode schema, bool asString)
    {
        var min = Bound(schema, "minimum", "exclusiveMinimum", +1) ?? 0;
        var max = Bound(schema, "maximum", "exclusiveMaximum", -1) ?? Math.Max(min, 0) + 1000;
        var (low, high) = ((long)Math.Ceiling(Math.Max(min, -1_000_000)), (long)Math.Floor(Math.Min(max, 1_000_000)));
        if (high < low)
            high = low;
        return Gen.Select(Gen.Long[low, high], Gen.Int[0, 99], (whole, cents) =>
        {
            var value = whole + (whole < high ? cents / 100m : 0);
            return asString ? JsonValue.Create(value.ToString(CultureInfo.InvariantCulture)) : (JsonNode?)JsonValue.Create(value);
        });
    }

    private static double? Bound(JsonNode schema, string inclusive, string exclusive, int step)
    {
        double? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d
            : node is JsonValue s && s.TryGetValue<string>(out var text) && double.TryParse(text, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
        if (Number(schema[exclusive]) is { } e)
            return e + step;
        return Number(schema[inclusive]);
    }

    private Gen<string> StringGen(JsonNode schema)
    {
        var minLength = (int)Math.Min(schema["minLength"]?.GetValue<long>() ?? 1, 64);
        var maxLength = (int)Math.Max(minLength, Math.Min(schema["maxLength"]?.GetValue<long>() ?? 24, 64));
        var format = schema["format"]?.GetValue<string>();
        var pattern = schema["pattern"]?.GetValue<string>();
        var now1 = now;
        Gen<string> gen = format switch
        {
            "date-time" => Gen.Int[-2000, 2000].Select(h => now1.AddHours(h).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
            "date" => Gen.Int[-400, 400].Select(d => now1.AddDays(d).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            "email" => Gen.String[Gen.Char[Lower], 1, 12].Select(s => s + "@example.test"),
            "uuid" => Gen.Guid.Select(g => g.ToString()),
            "uri" or "url" => Gen.String[Gen.Char[Lower], 1, 12].Select(s => "https://example.test/" + s),
            _ => Gen.String[Gen.Char[AlphaNumeric], minLength, maxLength],
        };
        if (pattern is null)
            return gen;
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException)
        {
            return gen;
        }
        // Simple patterns: the first of a few kinds of text that matches (digits, decimals, letters, the format's own).
        Gen<string>[] candidates =
        [
            gen, Gen.String[Gen.Char["0123456789"], Math.Max(minLength, 1), Math.Max(maxLength, 1)],
            Gen.Int[0, 99999].Select(Gen.Int[0, 99], (a, b) => $"{a}.{b:D2}"), Gen.Int[0, 99999].Select(a => a.ToString(CultureInfo.InvariantCulture)),
            Gen.String[Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZ"], Math.Max(minLength, 1), Math.Max(maxLength, 1)],
            Gen.String[Gen.Char[Lower], Math.Max(minLength, 1), Math.Max(maxLength, 1)],
            Gen.String[Gen.Char["0123456789"], 10, 10].Select(s => "+" + s),
        ];
        return Gen.Select(candidates[0], candidates[1], candidates[2], candidates[3], candidates[4], candidates[5], candidates[6],
            (a, b, c, d, e, f, g) => new[] { a, b, c, d, e, f, g }.FirstOrDefault(s => SafeMatch(regex, s)) ?? a);
    }

    private static bool SafeMatch(Regex regex, string text)
    {
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private FuzzRequest Build(FuzzOperation operation, Principal principal, List<(string Name, string Value)> pathValues,
        List<(string Name, string? Value)> queryValues, List<(string Name, string? Value)> headerValues, JsonNode? json,
        (Mutation Kind, int A, int B)? mutation)
    {
        var method = operation.Method;
        var pathSegments = pathValues.ToDictionary(p => p.Name, p => Uri.EscapeDataString(p.Value));
        var query = queryValues.Where(q => q.Value is not null).Select(q => (q.Name, Value: Uri.EscapeDataString(q.Value!))).ToList();
        var headers = new List<KeyValuePair<string, string>>(principal.Headers);
        headers.AddRange(headerValues.Where(h => h.Value is not null).Select(h => new KeyValuePair<string, string>(h.Name, h.Value!)));
        var hasBody = operation.BodyMediaType is not null && (operation.BodyRequired || json is not null);
        var contentType = operation.BodyMediaType;
        byte[]? body = hasBody ? Serialize(operation, json, out contentType) : null;
        var kind = "valid";

        if (mutation is var (m, a, b))
        {
            kind = m.ToString();
            var (fieldName, fieldParent) = PickField(json, a);
            switch (m)
            {
                case Mutation.RootWrongType:
                    body = Encoding.UTF8.GetBytes(WrongTypes[a % WrongTypes.Length]?.ToJsonString() ?? "null");
                    contentType = "application/json";
                    break;
                case Mutation.FieldWrongType when fieldParent is not null:
                    fieldParent[fieldName!] = WrongTypes[b % WrongTypes.Length]?.DeepClone();
                    body = Json(json);
                    contentType = "application/json";
                    break;
                case Mutation.MissingField when fieldParent is not null:
                    fieldParent.Remove(fieldName!);
                    body = Json(json);
                    contentType = "application/json";
                    break;
                case Mutation.ExtraField:
                    var extra = json as JsonObject ?? new JsonObject();
                    extra["zz_extra_" + (a % 10)] = WrongTypes[b % WrongTypes.Length]?.DeepClone();
                    extra["__proto__"] = new JsonObject { ["admin"] = true };
                    body = Json(extra);
                    contentType = "application/json";
                    break;
                case Mutation.HugeString:
                    var huge = new string(a % 2 == 0 ? 'a' : 'ю', 10_000 + a * 100);
                    if (fieldParent is not null)
                        fieldParent[fieldName!] = huge;
                    body = Json(fieldParent is not null ? json : JsonValue.Create(huge));
                    contentType = "application/json";
                    break;
                case Mutation.HugeNumber:
                    var number = HugeNumbers[b % HugeNumbers.Length];
                    if (fieldParent is not null)
                    {
                        fieldParent[fieldName!] = "__NUMBER__";
                        body = Encoding.UTF8.GetBytes(json!.ToJsonString().Replace("\"__NUMBER__\"", number, StringComparison.Ordinal));
                    }
                    else
                        body = Encoding.UTF8.GetBytes(number);
                    contentType = "application/json";
                    break;
                case Mutation.DeepNesting:
                    var depth = a % 2 == 0 ? 10_000 : 65 + b % 200;
                    var nested = (b % 2 == 0 ? string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth))
                        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + string.Concat(Enumerable.Repeat("}", depth)));
                    if (fieldParent is not null)
                    {
                        fieldParent[fieldName!] = "__NESTED__";
                        body = Encoding.UTF8.GetBytes(json!.ToJsonString().Replace("\"__NESTED__\"", nested, StringComparison.Ordinal));
                    }
                    else
                        body = Encoding.UTF8.GetBytes(nested);
                    contentType = "application/json";
                    break;
                case Mutation.InvalidUtf8:
                    byte[][] bad = [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82]];
                    if (fieldParent is not null)
                        fieldParent[fieldName!] = "__BAD__";
                    var text = fieldParent is not null ? json!.ToJsonString() : "\"__BAD__\"";
                    var at = text.IndexOf("__BAD__", StringComparison.Ordinal);
                    body = [.. Encoding.UTF8.GetBytes(text[..at]), .. bad[a % bad.Length], .. Encoding.UTF8.GetBytes(text[(at + 7)..])];
                    contentType = "application/json";
                    break;
                case Mutation.WrongContentType:
                    body ??= Json(json ?? new JsonObject());
                    contentType = WrongContentTypes[a % WrongContentTypes.Length];
                    break;
                case Mutation.OversizedBody:
                    var size = (int)maxBodyBytes + 1 + a;
                    var payload = new byte[size];
                    Array.Fill(payload, (byte)'a');
                    "{\"a\":\""u8.CopyTo(payload);
                    "\"}"u8.CopyTo(payload.AsSpan(size - 2));
                    body = payload;
                    contentType = "application/json";
                    break;
                case Mutation.MalformedJson:
                    body = Encoding.UTF8.GetBytes(Malformed[a % Malformed.Length]);
                    contentType = "application/json";
                    break;
                case Mutation.EmptyBody:
                    body = [];
                    contentType = a % 2 == 0 ? "application/json" : null;
                    break;
                case Mutation.NullFields:
                    if (json is JsonObject all)
                        foreach (var field in all.Select(p => p.Key).ToList())
                            all[field] = null;
                    body = Json(json is JsonObject ? json : null);
                    contentType = "application/json";
                    break;
                case Mutation.HostilePathSegment when pathSegments.Count > 0:
                    var key = pathSegments.Keys.ElementAt(a % pathSegments.Count);
                    pathSegments[key] = HostileSegments[b % HostileSegments.Length];
                    break;
                case Mutation.LongPathSegment when pathSegments.Count > 0:
                    pathSegments[pathSegments.Keys.ElementAt(a % pathSegments.Count)] = new string('a', 300 + b * 40);
                    break;
                case Mutation.QueryWrongType when operation.Parameters.Any(p => p.In == "query"):
                    var parameter = operation.Parameters.Where(p => p.In == "query").ElementAt(a % operation.Parameters.Count(p => p.In == "query"));
                    query.RemoveAll(q => q.Name == parameter.Name);
                    query.Add((parameter.Name, Uri.EscapeDataString(ParameterText(WrongTypes[b % WrongTypes.Length]) is { Length: > 0 } v ? v : "x")));
                    if (b % 3 == 0)
                        query.Add((parameter.Name, "1"));
                    break;
                case Mutation.HostileQuery:
                    var name = operation.Parameters.Where(p => p.In == "query").Select(p => p.Name).DefaultIfEmpty("q").ElementAt(0);
                    string[] hostile = ["%00", "%", "%zz", "%C3%28", new string('9', 400), "-99999999999999999999", "1e400", "NaN", "%27%20OR%201%3D1", "..%2F..", new string('a', 20_000)];
                    query.Add((b % 4 == 0 ? "unknown" : name, hostile[a % hostile.Length]));
                    break;
                case Mutation.BadAuthorization:
                    headers.RemoveAll(h => h.Key is "Authorization" or "x-api-key");
                    string[] auth = ["Bearer", "Bearer ", "Bearer x.y.z", "Basic YWRtaW46YWRtaW4=", "Bearer " + new string('A', 5000), "bearer eyJ.eyJ.", "Bearer ..", "Negotiate abc"];
                    headers.Add(new("Authorization", auth[a % auth.Length]));
                    if (b % 2 == 0)
                        headers.Add(new("x-api-key", b % 4 == 0 ? "" : "not-a-key-" + b));
                    break;
                case Mutation.HugeHeader:
                    headers.Add(new(a % 2 == 0 ? "X-Fuzz" : "Idempotency-Key", new string('h', 8_000 + b * 20)));
                    break;
                case Mutation.BadIdempotencyKey:
                    headers.RemoveAll(h => h.Key.Equals("Idempotency-Key", StringComparison.OrdinalIgnoreCase));
                    string[] keys = ["", " ", "ключ", "a\tb", new string('k', 300), "%00", "../../x", "null"];
                    headers.Add(new("Idempotency-Key", keys[a % keys.Length]));
                    break;
                case Mutation.WrongMethod when operation.OtherMethods.Count > 0:
                    method = operation.OtherMethods[a % operation.OtherMethods.Count];
                    break;
                default:
                    kind = "valid";
                    break;
            }
        }

        var path = operation.Path;
        foreach (var (name, value) in pathSegments)
            path = path.Replace("{" + name + "}", value, StringComparison.Ordinal);
        var url = path + (query.Count > 0 ? "?" + string.Join('&', query.Select(q => Uri.EscapeDataString(q.Name) + "=" + q.Value)) : "");
        return new FuzzRequest(operation.Name, principal.Name, kind, method, url, headers, body, body is null ? null : contentType);
    }

    private static byte[] Json(JsonNode? json) => Encoding.UTF8.GetBytes(json?.ToJsonString() ?? "null");

    /// <summary>The body in the operation's media type: JSON, a form, or multipart with a file for binary fields.</summary>
    private static byte[] Serialize(FuzzOperation operation, JsonNode? json, out string? contentType)
    {
        contentType = operation.BodyMediaType;
        if (operation.BodyMediaType is { } media && media.Contains("form-urlencoded", StringComparison.OrdinalIgnoreCase) && json is JsonObject form)
            return Encoding.UTF8.GetBytes(string.Join('&', form.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(ParameterText(p.Value)))));
        if (operation.BodyMediaType is { } multipart && multipart.Contains("multipart", StringComparison.OrdinalIgnoreCase) && json is JsonObject parts)
        {
            const string boundary = "fuzz-boundary-7d1";
            contentType = "multipart/form-data; boundary=" + boundary;
            var text = new StringBuilder();
            foreach (var (name, value) in parts)
            {
                text.Append(CultureInfo.InvariantCulture, $"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"");
                text.Append(name.Contains("file", StringComparison.OrdinalIgnoreCase) ? "; filename=\"fuzz.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n%fuzz\n" : "\r\n\r\n" + ParameterText(value));
                text.Append("\r\n");
            }
            text.Append(CultureInfo.InvariantCulture, $"--{boundary}--\r\n");
            return Encoding.UTF8.GetBytes(text.ToString());
        }
        return Json(json);
    }

    /// <summary>A field of the body (a top-level property, or one of a nested object), chosen by <paramref name="n"/>.</summary>
    private static (string? Name, JsonObject? Parent) PickField(JsonNode? json, int n)
    {
        if (json is not JsonObject root || root.Count == 0)
            return (null, null);
        var candidates = new List<(string, JsonObject)>();
        void Walk(JsonObject node, int depth)
        {
            foreach (var (name, value) in node.ToList())
            {
                candidates.Add((name, node));
                if (depth < 3 && value is JsonObject child)
                    Walk(child, depth + 1);
                if (depth < 3 && value is JsonArray { Count: > 0 } array && array[0] is JsonObject first)
                    Walk(first, depth + 1);
            }
        }
        Walk(root, 0);
        return candidates[n % candidates.Count];
    }
}

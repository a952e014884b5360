using System.Collections.Frozen;
using System.Globalization;
using Serverless.Platform.Http;

namespace Serverless.Platform.Identity;

/// <summary>
/// The one rule for a new password, wherever one is set: 8 to 128 characters as a person counts them (Unicode text
/// elements, so an emoji or a letter with its combining accents is one), and not one of the most common passwords.
/// </summary>
public static class PasswordRule
{
    public const int MinLength = 8;
    public const int MaxLength = 128;

    /// <summary>Characters as a person sees them: extended grapheme clusters, not UTF-16 units.</summary>
    public static int Length(string password) => new StringInfo(password).LengthInTextElements;

    public static bool IsCommon(string password) => Common.Contains(password.Trim());

    public static int CommonPasswordCount => Common.Count;

    /// <summary>The message for what is wrong with <paramref name="password"/>, or null when it may be set.</summary>
    public static string? Problem(string? password, string field = "password", int minLength = MinLength)
    {
        if (string.IsNullOrEmpty(password) || Length(password) is var length && (length < minLength || length > MaxLength))
            return $"'{field}' must be {minLength} to {MaxLength} characters.";
        return IsCommon(password) ? $"'{field}' is one of the most common passwords; choose another." : null;
    }

    /// <summary><see cref="Problem"/> as a 400 with code <c>validation_error</c>, in the endpoint's error shape.</summary>
    public static ErrorResult? Check(string? password, string field = "password", int minLength = MinLength) =>
        Problem(password, field, minLength) is { } message ? ApiErrors.BadRequest(message, "validation_error") : null;

    // The most used passwords of 8 characters or more, from published breach-corpus rankings; compared case-insensitively.
    private static readonly FrozenSet<string> Common = new[]
    {
        "password", "password1", "password12", "password123", "password1234", "password12345", "passw0rd", "p@ssw0rd",
        "p@ssword", "pa$$word", "password!", "password01", "passwort", "motdepasse", "contraseña", "senha123",
        "12345678", "123456789", "1234567890", "12345678910", "123456789a", "1234567a", "1234qwer", "123123123",
        "123321123", "11111111", "111111111", "1111111111", "00000000", "000000000", "0000000000", "22222222",
        "55555555", "66666666", "77777777", "88888888", "99999999", "12341234", "11223344", "112233445566",
        "87654321", "987654321", "0987654321", "147258369", "123654789", "741852963", "159753258", "12369874",
        "qwertyui", "qwertyuiop", "qwerty123", "qwerty12", "qwerty1234", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx",
        "1qaz2wsx3edc", "zaq12wsx", "zaq1zaq1", "qazwsxedc", "q1w2e3r4", "q1w2e3r4t5", "asdfghjkl", "asdfasdf",
        "zxcvbnm1", "zxcvbnm123", "abcd1234", "abc12345", "abc123456", "abcdefgh", "abcdefg1", "a1b2c3d4",
        "aa123456", "aaaaaaaa", "iloveyou", "iloveyou1", "iloveyou2", "iloveu123", "sunshine", "sunshine1",
        "princess", "princess1", "football", "football1", "baseball", "basketball", "superman", "batman123",
        "starwars", "trustno1", "welcome1", "welcome123", "whatever", "letmein1", "letmein123", "computer",
        "internet", "michelle", "jennifer", "jessica1", "nicole123", "daniel123", "michael1", "charlie1",
        "mustang1", "liverpool", "chelsea1", "arsenal1", "manchester", "butterfly", "chocolate", "iloveyou!",
        "loveyou1", "lovely123", "lovelove", "babygirl", "babygirl1", "sweetheart", "beautiful", "fuckyou1",
        "changeme", "changeme1", "default1", "administrator", "admin123", "admin1234", "adminadmin", "rootroot",
        "secret123", "master123", "mypassword", "mypass123", "test1234", "testtest", "test12345", "guest123",
        "qwerty12345", "google123", "samsung1", "linkedin", "facebook", "dragon123", "monkey123", "shadow123",
        "pokemon1", "naruto123", "blink182", "88888888a", "11111111a", "a12345678", "asd123456", "qwe123456",
        "zxc123456", "india123", "india@123", "pakistan", "bangladesh", "hello123", "hello1234", "helloworld",
        "welcome@123", "admin@123", "pass@123", "password@123", "Password@1", "iloveindia", "krishna123",
        "ganesh123", "sairam123", "omsairam", "jaishriram", "jesus123", "jesuschrist", "blessed1", "anthony1",
        "987654321a", "minecraft", "starwars1", "qwertyu1", "asdfgh123", "1234abcd", "12qwaszx", "q2w3e4r5",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
}

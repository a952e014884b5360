using Serverless.Platform.Identity;

namespace Serverless.Tests.Platform.Identity;

/// <summary>
/// One password rule wherever a password is set: 8 to 128 characters as a person counts them (Unicode text
/// elements, not UTF-16 units), and not one of the most common passwords.
/// </summary>
public sealed class PasswordRuleTests
{
    [Fact]
    public void Four_emoji_are_four_characters_and_too_short()
    {
        Assert.Equal(4, PasswordRule.Length(SamplePasswords.FourEmoji));
        Assert.NotNull(PasswordRule.Problem(SamplePasswords.FourEmoji));
        Assert.NotNull(PasswordRule.Problem(SamplePasswords.FourFamilies));
    }

    [Fact]
    public void Eight_emoji_are_accepted()
    {
        Assert.Null(PasswordRule.Problem(SamplePasswords.EightEmoji));
        Assert.Null(PasswordRule.Problem(string.Concat(Enumerable.Repeat("😀", 128))));
        Assert.NotNull(PasswordRule.Problem(string.Concat(Enumerable.Repeat("😀", 129))));
    }

    [Fact]
    public void A_letter_with_a_combining_accent_counts_once()
    {
        Assert.Equal(7, PasswordRule.Length(SamplePasswords.SevenCombined));
        Assert.NotNull(PasswordRule.Problem(SamplePasswords.SevenCombined));
        Assert.Null(PasswordRule.Problem(SamplePasswords.SevenCombined + "x"));
    }

    [Theory]
    [InlineData("password")]
    [InlineData("Password1")]
    [InlineData("12345678")]
    [InlineData("QWERTYUIOP")]
    [InlineData("iloveyou")]
    public void Common_passwords_are_refused_whatever_their_case(string password)
    {
        Assert.Equal("'password' is one of the most common passwords; choose another.", PasswordRule.Problem(password));
    }

    [Fact]
    public void The_common_list_holds_only_passwords_the_length_rule_would_let_through()
    {
        Assert.InRange(PasswordRule.CommonPasswordCount, 100, 300);
        Assert.Null(PasswordRule.Problem("print-password-1"));
    }
}


using Serverless.Platform.Http;

namespace Serverless.Tests.Platform;

public sealed class ValidationTests
{
    [Theory]
    [InlineData("79251153242")]
    [InlineData("+1 (234) 567-890")]
    [InlineData(" 1234567 ")]
    [InlineData(null)]
    public void Phone_accepts_seven_to_fifteen_digits_with_an_optional_plus_and_separators(string? phone) =>
        Assert.Null(Check.Phone(phone, "customer.phone", "+1234567890"));

    [Theory]
    [InlineData("call me")]
    [InlineData("123456")]
    [InlineData("1234567890123456")]
    [InlineData("++1234567890")]
    [InlineData("12345678x")]
    public void Phone_refuses_anything_else_with_the_example_of_the_surface(string phone)
    {
        var problem = Check.Phone(phone, "participant.phone", "79251153242");

        Assert.NotNull(problem);
        Assert.Equal(400, problem.Error.Status);
        Assert.Equal("validation_error", problem.Error.Code);
        Assert.Equal("'participant.phone' must be a phone number such as 79251153242.", problem.Error.Message);
    }
}

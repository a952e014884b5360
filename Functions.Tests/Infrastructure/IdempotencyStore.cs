using System.Text;
using Azure.Data.Tables;
using Serverless.Platform.Http;

namespace Serverless.Tests.Infrastructure;

/// <summary>The idempotency table as storage holds it, read straight from Azurite rather than through the app.</summary>
public static class IdempotencyStore
{
    /// <summary>True when any property of any stored idempotency row holds <paramref name="text"/> (as a string or as UTF-8 bytes).</summary>
    public static async Task<bool> HoldsAsync(PlatformFactory app, string text)
    {
        var table = new TableServiceClient(app.ConnectionString).GetTableClient(app.Prefix + IdempotencyMiddleware.TableName);
        var needle = Encoding.UTF8.GetBytes(text);
        await foreach (var row in table.QueryAsync<TableEntity>())
        {
            foreach (var (_, value) in row)
            {
                if (value is string s && s.Contains(text, StringComparison.Ordinal))
                    return true;
                if (value is byte[] bytes && bytes.AsSpan().IndexOf(needle) >= 0)
                    return true;
            }
        }
        return false;
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print;
using Serverless.Print.Accounts;
using Serverless.Print.Shops;

namespace Serverless.Tests.Print.Shops;

/// <summary>The print app with helpers to place shops: accounts are registered through <see cref="PrintAccounts"/> (as sign-up does).</summary>
public class ShopsFactory : PrintFactory
{
    public async Task<PrintAccount> AccountAsync(string role, double? lat = null, double? lon = null, string? shopName = null)
    {
        var username = Unique(role == PrintRoles.Shopkeeper ? "shop" : "cust");
        var isShop = role == PrintRoles.Shopkeeper;
        var result = await Get<PrintAccounts>().RegisterAsync(new Registration("Test " + username, username, $"{username}@example.test", null,
            DefaultPassword, role, isShop ? shopName ?? "Shop " + username : null, isShop ? lat : null, isShop ? lon : null,
            isShop ? "1 Main St" : null, null));
        var id = result.User!.Id;
        return new PrintAccount(id, username, $"{username}@example.test", DefaultPassword, role, IssueForUser(TokenAudiences.Print, id, [role]));
    }

    public Task<PrintAccount> ShopAsync(double lat, double lon, string? name = null) => AccountAsync(PrintRoles.Shopkeeper, lat, lon, name);

    public Task<PrintAccount> CustomerAsync() => AccountAsync(PrintRoles.Customer);

    public TableClient Shops => Get<StorageAccount>().Table(ShopKeys.TableName);

    public Task<PrintProfile?> ProfileAsync(long id) =>
        Get<StorageAccount>().Table(UserDirectory.TableName).FindAsync<PrintProfile>(AccountKeys.Partition(id), AccountKeys.Profile);

    public Task<ShopListingRow?> ListingAsync(long id, double lat, double lon) => Shops.FindAsync<ShopListingRow>(ShopKeys.Cell(lat, lon), ShopKeys.Shop(id));

    public Task<OpenShopRow?> OpenRowAsync(long id) => Shops.FindAsync<OpenShopRow>(ShopKeys.OpenPartition(id), ShopKeys.Shop(id));

    public async Task<(HttpResponseMessage Response, JsonElement Body)> NearAsync(PrintAccount caller, string query)
    {
        var response = await Bearer(caller).GetAsync("/shops?" + query);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static int StorageRequests(HttpResponseMessage response) =>
        int.Parse(response.Headers.GetValues("X-Storage-Requests").Single(), System.Globalization.CultureInfo.InvariantCulture);

    public static string Q(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A separate app (storage and clock) for the sweeper: it sweeps every open shop of its storage.</summary>
public sealed class SweeperFactory : ShopsFactory
{
    public SweeperFactory() => With("Print:Shops:StaleAfter", "00:05:00");
}

// Flex Consumption plan and the Linux function app that runs the packaged custom handler, with its settings.

@description('Azure region of the resources.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the function app; also the first label of its default host name.')
param functionAppName string

@description('Service name in azure.yaml that `azd deploy` finds the app by (its azd-service-name tag).')
param azdServiceName string

@description('Resource id of the user-assigned identity the app uses for storage, Key Vault and telemetry.')
param identityId string

@description('Client (application) id of that identity.')
param identityClientId string

@description('Storage account behind AzureWebJobsStorage.')
param storageAccountName string

@description('Blob container holding the deployment package.')
param deploymentContainerName string

@description('Application Insights component the host and the app send telemetry to.')
param applicationInsightsName string

@description('Key Vault holding the secrets the settings reference.')
param keyVaultName string

@description('Secret names in the vault, keyed by role (see main.bicep).')
param secretNames object

@description('Whether the vault holds a Razorpay key secret.')
param hasRazorpayKeySecret bool

@description('Whether the vault holds a Stripe secret key.')
param hasStripeSecretKey bool

@description('Whether the vault holds the razorpay webhook secret (signs the webhooks Razorpay sends).')
param hasRazorpayWebhookSecret bool

@description('Whether the vault holds the razorpayX account number payouts are made from.')
param hasRazorpayPayoutAccountNumber bool

@description('Whether the vault holds the stripe webhook signing secret (whsec_...).')
param hasStripeWebhookSecret bool

@description('The payment provider new payments use (razorpay, stripe) or empty for none.')
param paymentsGateway string

@description('Razorpay key id; empty deploys without Razorpay.')
param razorpayKeyId string

@description('Whether the vault holds a Resend API key.')
param hasResendApiKey bool

@description('Whether the vault holds the Firebase service account JSON key (FCM push).')
param hasFcmServiceAccountJson bool

@description('Firebase project id for FCM push; empty deploys without push (pushes are kept, not sent).')
param fcmProjectId string

@description('https URL of the market rate feed the checkout prices with.')
param checkoutMarketRatesUrl string

@description('Whether the vault holds a key for the market rate feed.')
param hasCheckoutMarketRatesApiKey bool

@description('Comma-separated origins of the browser apps that may call the API; empty allows none.')
param corsAllowedOrigins string

@description('Public https base URL of the app; empty means the app\'s default host name.')
param publicBaseUrl string

@description('E-mail address of the first admin account.')
param adminEmail string

@description('Most instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Further non-secret app settings (provider key ids, prices, ...); the settings below win on a clash.')
param additionalAppSettings object

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // Flex Consumption is Linux only, and a Linux plan is one with reserved = true.
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: functionAppName
  location: location
  // Only the app carries the service tag: azd refuses a service name that two resources share.
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity, which holds Key Vault Secrets User.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          // Zip deploys land in this container and every instance starts from it (no Azure Files share on Flex).
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // The custom-handler stack: the host starts the executable named in host.json and forwards to it.
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// FTP is never used to deploy a Flex app, so its basic-auth endpoint stays closed.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

var effectivePublicBaseUrl = empty(publicBaseUrl) ? 'https://${functionApp.properties.defaultHostName}' : publicBaseUrl

var keyVaultReferencePrefix = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName='

var appSettings = {
  // Identity-based AzureWebJobsStorage: the host and the app authenticate with the user-assigned identity, no keys.
  AzureWebJobsStorage__accountName: storageAccount.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // The app builds its Blob, Queue and Table clients from these three URIs.
  AzureWebJobsStorage__blobServiceUri: storageAccount.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storageAccount.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storageAccount.properties.primaryEndpoints.table
  // Makes DefaultAzureCredential and ManagedIdentityCredential in the app pick the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  // The component refuses key-only ingestion, so the host authenticates its telemetry with the identity.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  ASPNETCORE_ENVIRONMENT: 'Production'
  PublicBaseUrl: effectivePublicBaseUrl
  Admin__Email: adminEmail
  Admin__Password: '${keyVaultReferencePrefix}${secretNames.adminPassword})'
  Jwt__SigningKey: '${keyVaultReferencePrefix}${secretNames.jwtSigningKey})'
  // Commerce: the key of the gas fee quotes a preview signs (never the JWT key), and how long a quote holds.
  Commerce__GasFeeSigningKey: '${keyVaultReferencePrefix}${secretNames.commerceGasFeeSigningKey})'
  Commerce__GasFeeValidity: '00:00:40'
  // The sign-in budget per client address and per account or identifier: strict in production.
  RateLimits__Auth__PermitLimit: '10'
  RateLimits__Auth__Window: '00:01:00'
  // How long each surface's tokens live (print's sign-in: Print__SessionLifetime, 7 days by default).
  Jwt__Lifetimes__Platform: '01:00:00'
  Jwt__Lifetimes__PreOrders: '01:00:00'
  Jwt__Lifetimes__ECards: '01:00:00'
  Jwt__Lifetimes__Commerce: '00:15:00'
  // A commerce sign-in's refresh token: rotated on every use, refused once this old.
  Commerce__RefreshTokenLifetime: '30.00:00:00'
  // Payments: an empty key id or secret key leaves that provider out; an absent secret leaves its setting empty.
  Payments__Gateway: paymentsGateway
  Payments__Razorpay__KeyId: razorpayKeyId
  Payments__Razorpay__KeySecret: hasRazorpayKeySecret ? '${keyVaultReferencePrefix}${secretNames.razorpayKeySecret})' : ''
  Payments__Razorpay__WebhookSecret: hasRazorpayWebhookSecret ? '${keyVaultReferencePrefix}${secretNames.razorpayWebhookSecret})' : ''
  Payments__Razorpay__PayoutAccountNumber: hasRazorpayPayoutAccountNumber ? '${keyVaultReferencePrefix}${secretNames.razorpayPayoutAccountNumber})' : ''
  Payments__Stripe__SecretKey: hasStripeSecretKey ? '${keyVaultReferencePrefix}${secretNames.stripeSecretKey})' : ''
  Payments__Stripe__WebhookSecret: hasStripeWebhookSecret ? '${keyVaultReferencePrefix}${secretNames.stripeWebhookSecret})' : ''
  RESEND_API_KEY: hasResendApiKey ? '${keyVaultReferencePrefix}${secretNames.resendApiKey})' : ''
  // Print-shop push notifications: both set, or neither.
  Print__Fcm__ProjectId: hasFcmServiceAccountJson ? fcmProjectId : ''
  Print__Fcm__ServiceAccountJson: hasFcmServiceAccountJson && !empty(fcmProjectId) ? '${keyVaultReferencePrefix}${secretNames.fcmServiceAccountJson})' : ''
  // Checkout's market rates: the feed the CheckoutMarketRates timer fetches (its schedule is in the packaged function folder).
  Checkout__MarketRatesUrl: checkoutMarketRatesUrl
  Checkout__MarketRatesApiKey: hasCheckoutMarketRatesApiKey ? '${keyVaultReferencePrefix}${secretNames.checkoutMarketRatesApiKey})' : ''
  // How long an unpaid checkout order lives before it is cancelled with a callback.
  Checkout__OrderExpiry: '1.00:00:00'
  // A deadline whose message surfaces up to this long before it is due is waited out in its handler (queue visibility
  // counts whole seconds, so the message is made visible the fraction of a second early; zero: rounded up, up to 1 s late).
  Deadlines__WaitOut: '00:00:02'
  // Browser apps on other origins: the app answers CORS itself (the platform's CORS stays off, so the two never disagree).
  Cors__AllowedOrigins: corsAllowedOrigins
  // The development webhook inbox (/dev/webhooks) is never served in Azure (Production keeps it off too; this says so).
  Webhooks__ExposeInbox: 'false'
  // No log line for a request that goes well (the host records each request as request telemetry); true adds one.
  Logging__RequestLines: 'false'
}

// A separate settings resource can read the app's own default host name, which PublicBaseUrl defaults to.
resource functionAppSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(additionalAppSettings, appSettings)
}

output functionAppName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output publicBaseUrl string = effectivePublicBaseUrl

# The silo image (also the client): `batchcohort` with the imaging pipeline. Build: docker build -t batchcohort-silo .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/BatchCohort.Cli/BatchCohort.Cli.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /data
COPY --from=build /app /app
# silo-to-silo, gateway (clients), dashboard
EXPOSE 11111 30000 8080
VOLUME /data
STOPSIGNAL SIGINT
ENTRYPOINT ["dotnet", "/app/batchcohort.dll"]

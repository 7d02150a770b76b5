"""The per-request GraphQL context: the app's services and this request's DataLoaders."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from cosmo.api.services.build import Services
from cosmo.api.services.graph import GraphReader

__all__ = ["Context", "Loaders"]


class Loaders:
    """DataLoaders of one request, made on first use (so a request pays only for what it uses)."""

    def __init__(self, reader: GraphReader) -> None:
        self.reader = reader

    @cached_property
    def product(self) -> DataLoader[str, Any]:
        return DataLoader(self.reader.products)

    @cached_property
    def query(self) -> DataLoader[str, Any]:
        return DataLoader(self.reader.queries)

    @cached_property
    def intention(self) -> DataLoader[str, Any]:
        return DataLoader(self.reader.intentions)

    @cached_property
    def embedding(self) -> DataLoader[str, Any]:
        return DataLoader(self.reader.embeddings)

    @cached_property
    def product_knowledge(self) -> DataLoader[Any, Any]:
        return DataLoader(lambda keys: self.reader.knowledge(keys, "Product"))

    @cached_property
    def query_knowledge(self) -> DataLoader[Any, Any]:
        return DataLoader(lambda keys: self.reader.knowledge(keys, "Query"))

    @cached_property
    def co_bought(self) -> DataLoader[Any, Any]:
        return DataLoader(self.reader.co_bought)

    @cached_property
    def explained_co_buys(self) -> DataLoader[Any, Any]:
        return DataLoader(self.reader.explained_co_buys)

    @cached_property
    def similar(self) -> DataLoader[Any, Any]:
        return DataLoader(self.reader.similar)

    @cached_property
    def query_products(self) -> DataLoader[Any, Any]:
        return DataLoader(self.reader.query_products)

    @cached_property
    def intention_products(self) -> DataLoader[Any, Any]:
        return DataLoader(self.reader.intention_products)

    @cached_property
    def intention_queries(self) -> DataLoader[Any, Any]:
        return DataLoader(self.reader.intention_queries)

    @cached_property
    def related(self) -> DataLoader[Any, Any]:
        return DataLoader(self.reader.related_intentions)


class Context(BaseContext):
    """The GraphQL context: the app's services plus this request's loaders."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.settings = services.settings
        self.loaders = Loaders(services.reader)

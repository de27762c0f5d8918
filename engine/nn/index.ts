import * as functional from './functional';

export { functional };
export { Module } from './module';
export { Parameter } from './parameter';
export * from './layers';
export * from './loss_modules';
